# Codes in Worten: Programme, Status, Rollen, Ablehnungsgründe, KMU-Kategorien, Beihilfegrundlagen.
programme-digital-europe = Programm Digitales Europa
programme-horizon-europe = Horizont Europa
programme-investeu = InvestEU
programme-eib = EIB-Gruppe
programme-cohesion = Kohäsionsfonds
programme-private = Private Investoren
programme-unattributed = Nicht zugeordnet
programme-eu-programme = EU-Programm
programme-member-state = Mitgliedstaat
programme-member-state-cohesion = Kohäsionsmittel der Mitgliedstaaten

status-draft = Entwurf
status-submitted = Eingereicht
status-under-review = In Prüfung
status-awarded = Bewilligt
status-rejected = Abgelehnt
status-completed = Abgeschlossen
status-expired = Abgelaufen
status-active = Laufend
status-open = Offen
status-closed = Geschlossen
status-paid = Bezahlt
status-partly-paid = Teilweise bezahlt
status-unpaid = Unbezahlt
status-pending = Ausstehend
status-approved = Genehmigt
status-executed = Ausgeführt
status-withdrawn = Zurückgezogen
status-failed = Fehlgeschlagen

role-staff = Fondsteam
role-investor = Investor
role-auditor = Prüfer
role-sme = KMU
role-facility = Betreiber einer Recheneinrichtung
role-admin = Administrator

category-micro = Kleinstunternehmen
category-small = Kleines Unternehmen
category-medium = Mittleres Unternehmen
category-not-sme = Kein KMU

basis-de-minimis = De-minimis-Beihilfe
basis-industrial-research = Industrielle Forschung (AGVO Art. 25 Abs. 2 Buchst. b)
basis-experimental-development = Experimentelle Entwicklung (AGVO Art. 25 Abs. 2 Buchst. c)

refusal-not-an-sme = Das Unternehmen ist kein KMU
refusal-publicly-controlled = Von öffentlichen Stellen kontrolliert (25 % oder mehr)
refusal-declaration-missing = Eine erforderliche Erklärung fehlt
refusal-sector-excluded = Der Wirtschaftszweig ist von dieser Beihilfe ausgeschlossen
refusal-undertaking-in-difficulty = Unternehmen in Schwierigkeiten
refusal-outstanding-recovery-order = Offene Rückforderungsanordnung
refusal-bonus-not-allowed = Die Ausschreibung lässt keinen Aufschlag zu
refusal-cumulation-exceeded = Andere Beihilfen für dieselben Kosten lassen keine Intensität übrig
refusal-not-in-eu = Nicht in der EU niedergelassen
refusal-call-not-open = Die Ausschreibung ist noch nicht offen
refusal-call-closed = Die Ausschreibung ist geschlossen
refusal-hours-above-call-maximum = Mehr Stunden, als die Ausschreibung zulässt
refusal-facility-not-eligible = Die Einrichtung ist für diese Ausschreibung nicht zugelassen
refusal-invalid-period = Der Nutzungszeitraum ist ungültig
refusal-de-minimis-exceeded = Der De-minimis-Höchstbetrag würde überschritten
refusal-too-few-reviews = Zu wenige Bewertungen
refusal-score-below-minimum = Punktzahl unter dem Mindestwert der Ausschreibung
refusal-hours-not-awardable = Diese Stunden können nicht bewilligt werden

account-kind-asset = Aktivkonto
account-kind-liability = Passivkonto
account-kind-equity = Eigenkapitalkonto
account-kind-income = Ertragskonto
account-kind-expense = Aufwandskonto
account-kind-memorandum = Memorialkonto

facility-kind-gigafactory = KI-Gigafabrik
facility-kind-ai-factory = KI-Fabrik

proposal-distribution = Ausschüttung
proposal-grant-award = Bewilligung
proposal-grant-rejection = Ablehnung eines Antrags
proposal-capital-call = Kapitalabruf
proposal-manual-entry = Manuelle Buchung
proposal-waterfall-terms = Wasserfall
proposal-write-down = Abschreibung
proposal-reversal = Stornierung
proposal-facility-price = Preis einer Einrichtung
proposal-user-role = Rollenwechsel
proposal-bank-account = Bankverbindung
status-partial = Teilweise bezahlt
status-late = überfällig
programme-eib-group = EIB-Gruppe

# Terms inside refusals: what must be declared, sectors de minimis aid excludes.
declared-the-nace-code-of-the-main-activity = der NACE-Code der Haupttätigkeit
declared-the-nuts-2-region-of-establishment = die NUTS-2-Region der Niederlassung
declared-each-related-enterprise-s-legal-name-country-and-register-or-vat-number = für jedes Partner- oder verbundene Unternehmen Name, Land und Register- oder USt-Nummer
declared-whether-the-undertaking-is-in-difficulty = ob sich das Unternehmen in Schwierigkeiten befindet
declared-whether-the-undertaking-is-under-an-outstanding-recovery-order = ob gegen das Unternehmen eine offene Rückforderungsanordnung besteht
sector-fishery-and-aquaculture = Fischerei und Aquakultur
sector-primary-production-of-agricultural-products = Primärerzeugung landwirtschaftlicher Erzeugnisse

# Kinds of journal entry, by the event they record.
event-capital-call = Kapitalabruf
event-contribution = Einzahlung
event-deployment = Investition
event-distribution = Ausschüttung
event-grant-award = Bewilligung
event-grant-call = Ausschreibung
event-grant-lapse = Verfall einer Bewilligung
event-grant-usage = Nutzung einer Bewilligung
event-manual = Manuelle Buchung
event-manual-entry = Manuelle Buchung
event-proceeds = Erlöse
event-reversal = Storno
event-valuation = Bewertung
event-write-down = Abschreibung

# Schritte eines Zeitverlaufs.
step-done = Erledigt
step-pending = Ausstehend
step-upcoming = Bevorstehend
