# Dokumente: Mitteilungen, Auszüge und Bescheide als PDF.
doc-issued-on = Ausgestellt am { $date }
doc-page = Seite
doc-figures = Beträge in Euro, auf den Cent genau, wie in den Büchern des Fonds erfasst.
doc-fund-identity = { $kind } · aufgelegt am { $inception } · Zielvolumen { $target }
fund-kind-umbrella = Umbrella-Fonds
fund-kind-compartment = Teilfonds

label-fund = Fonds
label-investor = Investor
label-tranche = Tranche
label-description = Verwendungszweck
label-reference = Referenz
label-total = Summe

doc-call-notice = Kapitalabrufmitteilung
doc-call-notice-number = Kapitalabruf Nr. { $number }
label-call-date = Abrufdatum
label-due-date = Fälligkeitsdatum
label-investment = Investition
label-fees = Verwaltungsgebühren
label-expenses = Fondskosten
label-amount-called = Abgerufener Betrag
label-paid = Bezahlt
label-outstanding = Offen
label-cumulative-called = Bisher abgerufen, einschließlich dieser Mitteilung
label-remaining-unfunded = Nicht abgerufene Zusage nach dieser Mitteilung
doc-payment-instructions = Zahlungsanweisung
label-account-holder = Kontoinhaber
label-iban = IBAN
label-bic = BIC
label-payment-reference = Zahlungsreferenz
label-amount-to-pay = Zu zahlender Betrag
doc-pay-by = Bitte überweisen Sie { $amount } bis zum { $date } auf das oben genannte Konto und geben Sie die Zahlungsreferenz an, damit Ihre Zahlung dieser Mitteilung zugeordnet wird.
doc-paid-in-full = Diese Mitteilung ist vollständig bezahlt; es ist nichts fällig.
doc-no-bank-account = Der Fonds hat noch kein Bankkonto hinterlegt; die Fondsverwaltung sendet die Zahlungsanweisung gesondert.

doc-distribution-notice = Ausschüttungsmitteilung
label-distribution-date = Ausschüttungsdatum
label-return-of-capital = Kapitalrückzahlung
label-preferred-return = Vorzugsrendite
label-profit-share = Gewinnanteil (Catch-up und Carried-Interest-Aufteilung)
label-total-distributed = An Sie ausgeschüttet, insgesamt
doc-distribution-basis = Die Ausschüttung wurde nach dem Wasserfall des Fonds verteilt; sie wird auf das für Ihre Zusage hinterlegte Konto gezahlt.

doc-statement = Kapitalkontoauszug
doc-statement-period = Zeitraum bis { $date }
col-quarter-to-date = Quartal bis heute
col-year-to-date = Jahr bis heute
col-inception-to-date = Seit Auflage
label-period-from = Ab
label-opening = Anfangssaldo
label-contributions = Einzahlungen
label-distributions-capital = Ausschüttungen: Kapitalrückzahlung
label-distributions-pref = Ausschüttungen: Vorzugsrendite
label-distributions-profit = Ausschüttungen: Gewinnanteil
label-gains-losses = Zugewiesene Gewinne und Verluste
label-write-downs = davon Abschreibungen
label-closing = Endsaldo
doc-statement-basis = Die Salden sind der Anteil des Investors am Nettovermögen des Fonds bei hypothetischer Liquidation nach dem Wasserfall des Fonds. Die Spalten folgen der Reihenfolge der ILPA-Berichtsvorlage.

doc-award-letter = Bewilligungsbescheid: geförderte GPU-Stunden
doc-award-opening = Wir freuen uns, { $name } mitzuteilen, dass ihr Antrag im Rahmen der Ausschreibung „{ $call }“ wie folgt bewilligt wurde.
label-award = Bewilligung
label-beneficiary = Begünstigter
label-facility = KI-Einrichtung
label-period-of-use = Nutzungszeitraum
label-period-range = { $from } bis { $to }
label-gpu-hours-awarded = Bewilligte GPU-Stunden
label-price-per-gpu-hour = Listenpreis je GPU-Stunde
label-aid-intensity = Beihilfeintensität
label-aid-value = Beihilfebetrag
label-legal-basis = Rechtsgrundlage
label-aid-basis = Art der Beihilfe
label-sa-number = Beihilferegelung
label-sme-category = KMU-Kategorie
label-granting-authority = Bewilligungsbehörde
legal-basis-de-minimis = Verordnung (EU) 2023/2831 der Kommission über De-minimis-Beihilfen
legal-basis-gber = Verordnung (EU) Nr. 651/2014 der Kommission (Allgemeine Gruppenfreistellungsverordnung), Artikel 25
doc-award-de-minimis = Diese Beihilfe ist eine De-minimis-Beihilfe. Bewahren Sie diesen Bescheid auf: Sie müssen diese Beihilfe bei jedem Antrag auf De-minimis-Beihilfen in den nächsten drei Jahren angeben.
doc-award-gber = Diese Beihilfe ist nach Artikel 25 der Allgemeinen Gruppenfreistellungsverordnung freigestellt. Beihilfen über 100.000 EUR werden im Transparenzmodul der Kommission veröffentlicht.
doc-award-use = Die Stunden sind in der Einrichtung innerhalb des Nutzungszeitraums zu nutzen; bis zu dessen Ende nicht genutzte Stunden verfallen und fließen an das Programm zurück.

doc-facility-statement = Quartalsauszug über Nutzung und Forderungen
doc-facility-quarter = Quartal { $quarter } ({ $from } bis { $to })
col-award = Bewilligung
col-beneficiary = Begünstigter
col-records = Datensätze
col-gpu-hours = GPU-Stunden
col-subsidy = Zahlbare Förderung
label-payable = An die Einrichtung für das Quartal zahlbar
label-capacity = Kapazität im Quartal
label-used = Genutzte GPU-Stunden
doc-facility-basis = Nutzungsdatensätze zählen in dem Quartal, in dem ihr Zeitraum beginnt. Die Förderung je Datensatz ist der Beihilfewert ihrer Stunden (Stunden × Listenpreis × Beihilfeintensität), auf den Cent genau, wie gebucht.
doc-facility-none = Für dieses Quartal wurde keine Nutzung erfasst.

# E-Mail-fertige Texte, die ein Dokument versenden.
email-greeting = Sehr geehrte Damen und Herren ({ $name }),
email-call-notice-subject = { $fund }: Kapitalabruf Nr. { $number }
email-call-notice-body = { $fund } ruft { $amount } aus Ihrer Zusage an { $tranche } ab (Kapitalabruf Nr. { $number }), fällig am { $due }.
email-notice-attached = Der Abrufbescheid liegt als PDF bei.
email-award-subject = Ihre Bewilligung in der Ausschreibung { $call }
email-award-body = In der Ausschreibung { $call } werden Ihnen { $hours } geförderte GPU-Stunden bei { $facility } bewilligt, nutzbar vom { $from } bis zum { $to }; die Beihilfe beträgt { $aid }.
email-letter-attached = Das Bewilligungsschreiben mit der Rechtsgrundlage der Beihilfe liegt als PDF bei.
email-signature = Mit freundlichen Grüßen
    { $fund }
