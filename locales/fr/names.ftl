# Codes présentés en toutes lettres : programmes, statuts, rôles, refus, catégories de PME, bases d’aide.
programme-digital-europe = Programme pour une Europe numérique
programme-horizon-europe = Horizon Europe
programme-investeu = InvestEU
programme-eib = Groupe BEI
programme-cohesion = Fonds de cohésion
programme-private = Investisseurs privés
programme-unattributed = Non attribué
programme-eu-programme = Programme de l’UE
programme-member-state = État membre
programme-member-state-cohesion = Fonds de cohésion des États membres

status-draft = Brouillon
status-submitted = Soumise
status-under-review = En cours d’examen
status-awarded = Accordée
status-rejected = Rejetée
status-completed = Terminée
status-expired = Expirée
status-active = En cours
status-open = Ouvert
status-closed = Clos
status-paid = Payé
status-partly-paid = Payé en partie
status-unpaid = Impayé
status-pending = En attente
status-approved = Approuvée
status-executed = Exécutée
status-withdrawn = Retirée
status-failed = Échouée

role-staff = Équipe du fonds
role-investor = Investisseur
role-auditor = Auditeur
role-sme = PME
role-facility = Exploitant d’installation
role-admin = Administrateur

category-micro = Microentreprise
category-small = Petite entreprise
category-medium = Moyenne entreprise
category-not-sme = Pas une PME

basis-de-minimis = Aide de minimis
basis-industrial-research = Recherche industrielle (RGEC art. 25, par. 2, point b))
basis-experimental-development = Développement expérimental (RGEC art. 25, par. 2, point c))

refusal-not-an-sme = L’entreprise n’est pas une PME
refusal-publicly-controlled = Contrôlée par des organismes publics (25 % ou plus)
refusal-declaration-missing = Une déclaration requise manque
refusal-sector-excluded = Le secteur est exclu de cette aide
refusal-undertaking-in-difficulty = Entreprise en difficulté
refusal-outstanding-recovery-order = Injonction de récupération en suspens
refusal-bonus-not-allowed = L’appel n’autorise pas de majoration
refusal-cumulation-exceeded = Les autres aides pour les mêmes coûts ne laissent aucune intensité
refusal-not-in-eu = Non établie dans l’UE
refusal-call-not-open = L’appel n’est pas encore ouvert
refusal-call-closed = L’appel est clos
refusal-hours-above-call-maximum = Plus d’heures que l’appel n’en permet
refusal-facility-not-eligible = L’installation n’est pas éligible à cet appel
refusal-invalid-period = La période d’utilisation n’est pas valable
refusal-de-minimis-exceeded = Le plafond de minimis serait dépassé
refusal-too-few-reviews = Trop peu d’évaluations
refusal-score-below-minimum = Note inférieure au minimum de l’appel
refusal-hours-not-awardable = Ces heures ne peuvent pas être accordées

account-kind-asset = Compte d’actif
account-kind-liability = Compte de passif
account-kind-equity = Compte de capitaux propres
account-kind-income = Compte de produits
account-kind-expense = Compte de charges
account-kind-memorandum = Compte d’ordre

facility-kind-gigafactory = Gigausine d’IA
facility-kind-ai-factory = Usine d’IA

proposal-distribution = Distribution
proposal-grant-award = Attribution d’aide
proposal-grant-rejection = Rejet d’une demande
proposal-capital-call = Appel de fonds
proposal-manual-entry = Écriture manuelle
proposal-waterfall-terms = Cascade de distribution
proposal-write-down = Dépréciation
proposal-reversal = Contrepassation
proposal-facility-price = Prix d’une installation
proposal-user-role = Changement de rôle
proposal-bank-account = Compte bancaire
status-partial = Payé en partie
status-late = en retard
programme-eib-group = Groupe BEI

# Terms inside refusals: what must be declared, sectors de minimis aid excludes.
declared-the-nace-code-of-the-main-activity = le code NACE de l'activité principale
declared-the-nuts-2-region-of-establishment = la région NUTS 2 d'établissement
declared-each-related-enterprise-s-legal-name-country-and-register-or-vat-number = pour chaque entreprise liée, la raison sociale, le pays et le numéro d'immatriculation ou de TVA
declared-whether-the-undertaking-is-in-difficulty = si l'entreprise est en difficulté
declared-whether-the-undertaking-is-under-an-outstanding-recovery-order = si l'entreprise fait l'objet d'une injonction de récupération en suspens
sector-fishery-and-aquaculture = la pêche et l'aquaculture
sector-primary-production-of-agricultural-products = la production primaire de produits agricoles

# Kinds of journal entry, by the event they record.
event-capital-call = Appel de fonds
event-contribution = Versement
event-deployment = Investissement
event-distribution = Distribution
event-grant-award = Attribution de subvention
event-grant-call = Appel à propositions
event-grant-lapse = Expiration de subvention
event-grant-usage = Consommation de subvention
event-manual = Écriture manuelle
event-manual-entry = Écriture manuelle
event-proceeds = Produits
event-reversal = Contrepassation
event-valuation = Évaluation
event-write-down = Dépréciation

# Étapes d’une chronologie.
step-done = Fait
step-pending = En attente
step-upcoming = À venir
