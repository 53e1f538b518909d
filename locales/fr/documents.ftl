# Documents : avis, relevés et lettres en PDF.
doc-issued-on = Émis le { $date }
doc-page = Page
doc-figures = Montants en euros, au centime près, tels qu’inscrits dans les comptes du fonds.
doc-fund-identity = { $kind } · création le { $inception } · taille cible { $target }
fund-kind-umbrella = Fonds à compartiments
fund-kind-compartment = Compartiment

label-fund = Fonds
label-investor = Investisseur
label-tranche = Tranche
label-description = Objet
label-reference = Référence
label-total = Total

doc-call-notice = Avis d’appel de fonds
doc-call-notice-number = Appel de fonds nº { $number }
label-call-date = Date de l’appel
label-due-date = Date d’échéance
label-investment = Investissement
label-fees = Frais de gestion
label-expenses = Frais du fonds
label-amount-called = Montant appelé
label-paid = Payé
label-outstanding = Restant dû
label-cumulative-called = Appelé à ce jour, cet avis compris
label-remaining-unfunded = Engagement non appelé après cet avis
doc-payment-instructions = Instructions de paiement
label-account-holder = Titulaire du compte
label-iban = IBAN
label-bic = BIC
label-payment-reference = Référence de paiement
label-amount-to-pay = Montant à payer
doc-pay-by = Merci de verser { $amount } au plus tard le { $date } sur le compte ci-dessus, en indiquant la référence de paiement, afin que votre paiement soit rapproché de cet avis.
doc-paid-in-full = Cet avis est entièrement payé ; aucun montant n’est dû.
doc-no-bank-account = Le fonds n’a pas encore enregistré de compte bancaire ; l’administrateur du fonds enverra les instructions de paiement séparément.

doc-distribution-notice = Avis de distribution
label-distribution-date = Date de distribution
label-return-of-capital = Remboursement du capital
label-preferred-return = Rendement préférentiel
label-profit-share = Part des bénéfices (rattrapage et intéressement)
label-total-distributed = Total qui vous est distribué
doc-distribution-basis = La distribution a été répartie selon la cascade de distribution du fonds ; elle est versée sur le compte enregistré pour votre engagement.

doc-statement = Relevé de compte de capital
doc-statement-period = Période close le { $date }
col-quarter-to-date = Trimestre en cours
col-year-to-date = Depuis le début de l’année
col-inception-to-date = Depuis la création
label-period-from = Du
label-opening = Solde d’ouverture
label-contributions = Apports
label-distributions-capital = Distributions : remboursement du capital
label-distributions-pref = Distributions : rendement préférentiel
label-distributions-profit = Distributions : part des bénéfices
label-gains-losses = Plus et moins-values attribuées
label-write-downs = dont dépréciations
label-closing = Solde de clôture
doc-statement-basis = Les soldes sont la part de l’investisseur dans l’actif net du fonds en cas de liquidation hypothétique selon la cascade de distribution du fonds. Les colonnes suivent l’ordre du modèle de reporting de l’ILPA.

doc-award-letter = Lettre d’attribution : heures GPU subventionnées
doc-award-opening = Nous avons le plaisir d’informer { $name } que sa demande au titre de l’appel « { $call } » est accordée comme suit.
label-award = Attribution
label-beneficiary = Bénéficiaire
label-facility = Installation d’IA
label-period-of-use = Période d’utilisation
label-period-range = du { $from } au { $to }
label-gpu-hours-awarded = Heures GPU accordées
label-price-per-gpu-hour = Prix catalogue par heure GPU
label-aid-intensity = Intensité de l’aide
label-aid-value = Montant de l’aide
label-legal-basis = Base juridique
label-aid-basis = Type d’aide
label-sa-number = Régime d’aide d’État
label-sme-category = Catégorie de PME
label-granting-authority = Autorité d’octroi
legal-basis-de-minimis = Règlement (UE) 2023/2831 de la Commission relatif aux aides de minimis
legal-basis-gber = Règlement (UE) nº 651/2014 de la Commission (règlement général d’exemption par catégorie), article 25
doc-award-de-minimis = Cette aide est une aide de minimis. Conservez cette lettre : vous devrez déclarer cette aide pour toute demande d’aide de minimis au cours des trois prochaines années.
doc-award-gber = Cette aide est exemptée au titre de l’article 25 du règlement général d’exemption par catégorie. Les aides de plus de 100 000 EUR sont publiées dans le module de transparence de la Commission.
doc-award-use = Les heures sont à utiliser dans l’installation pendant la période d’utilisation ; les heures non utilisées à son terme sont perdues et reviennent au programme.

doc-facility-statement = Relevé trimestriel d’utilisation et de montants dus
doc-facility-quarter = Trimestre { $quarter } (du { $from } au { $to })
col-award = Attribution
col-beneficiary = Bénéficiaire
col-records = Relevés
col-gpu-hours = Heures GPU
col-subsidy = Subvention due
label-payable = Dû à l’installation pour le trimestre
label-capacity = Capacité du trimestre
label-used = Heures GPU utilisées
doc-facility-basis = Les relevés d’utilisation comptent dans le trimestre où commence leur période. La subvention de chaque relevé est la valeur d’aide de ses heures (heures × prix catalogue × intensité de l’aide), au centime près, telle que comptabilisée.
doc-facility-none = Aucune utilisation n’a été enregistrée pour ce trimestre.

# Textes prêts pour un courriel qui envoie un document.
email-greeting = Madame, Monsieur ({ $name }),
email-call-notice-subject = { $fund } : appel de fonds nº { $number }
email-call-notice-body = { $fund } appelle { $amount } sur votre engagement envers { $tranche } (appel de fonds nº { $number }), à verser au plus tard le { $due }.
email-notice-attached = L'avis d'appel de fonds est joint au format PDF.
email-award-subject = Votre attribution au titre de { $call }
email-award-body = Au titre de { $call }, { $hours } heures GPU subventionnées vous sont attribuées chez { $facility }, à utiliser du { $from } au { $to } ; l'aide s'élève à { $aid }.
email-letter-attached = La lettre d'attribution, avec la base juridique de l'aide, est jointe au format PDF.
email-signature = Veuillez agréer nos salutations distinguées.
    { $fund }
