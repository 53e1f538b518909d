# Phrases porteuses de données (refus chiffrés), dites par les pages dans la langue du lecteur
# et par l'API en anglais. Les arguments arrivent mis en forme pour la langue.

msg-call-above-unfunded = impossible d'appeler { $call } sur { $tranche } : ses engagements non appelés à la date de l'appel s'élèvent à { $unfunded }
msg-too-many-investors = un appel atteint au plus { $max } investisseurs par tranche
msg-too-many-positions = les positions sont évaluées et réparties pour au plus { $max } engagements par fonds ; ce fonds en a davantage
msg-over-payment = l'avis a { $outstanding } restant dus sur { $amount } ; un paiement de { $paid } le dépasserait
msg-above-tranche-target = les engagements envers { $tranche } atteindraient { $after }, au-delà de son objectif de { $target } ; le personnel peut autoriser expressément une sursouscription
msg-below-minimum-ticket = le ticket minimum de { $tranche } est de { $ticket }
msg-decrease-below-called = { $called } ont déjà été appelés ; l'engagement ne peut pas descendre en dessous (au plus { $removable } peuvent être retirés)
msg-amendment-before-commitment = l'engagement a pris effet le { $since } ; il ne peut pas être modifié au { $date }, avant d'exister
msg-commitment-before-call = la tranche a été appelée le { $latest }, selon les engagements de cette date ; un engagement ou un avenant doit être daté d'après
msg-commitment-before-distribution = le fonds a distribué le { $latest }, selon les engagements de cette date ; un engagement ou un avenant doit être daté d'après
msg-called-above-committed = retirer { $removed } de l'engagement à partir du { $from } le laisserait, le { $date }, à { $committed } engagés contre { $called } déjà appelés à cette date
msg-not-submitted-award = la demande est au statut « { $status } » ; seules les demandes soumises reçoivent une attribution
msg-budget-exhausted = la valeur de l'aide attribuée est de { $aid } ; il reste { $remaining } au budget de l'appel
msg-not-a-draft-change = la demande est au statut « { $status } » ; seuls les brouillons se modifient
msg-not-a-draft-submit = la demande est au statut « { $status } » ; seul un brouillon se soumet
msg-not-submitted-review = la demande est au statut « { $status } » ; seules les demandes soumises sont évaluées
msg-not-submitted-decide = la demande est au statut « { $status } » ; seules les demandes soumises font l'objet d'une décision
msg-score-range = doit être compris entre 0 et { $max }
msg-already-reviewed = { $reviewer } a déjà évalué cette demande
msg-distribution-out-of-order = le fonds a distribué le { $latest } ; une nouvelle distribution ne peut pas être datée d'avant
msg-write-down-out-of-order = le fonds a déprécié un investissement le { $latest } ; une nouvelle dépréciation ne peut pas être datée d'avant
msg-distribution-before-write-down = le fonds a déprécié un investissement le { $latest } ; une distribution doit être datée d'après
msg-contribution-before-distribution = le fonds a distribué le { $latest }, selon le capital versé à cette date ; une contribution doit être datée d'après
msg-contribution-before-write-down = le fonds a déprécié un investissement le { $latest }, sur le capital versé à cette date ; une contribution doit être datée d'après
msg-write-down-above-investment = le fonds porte { $carried } dans { $facility } ; impossible de déprécier { $amount }
msg-cost-above-investment = le fonds porte { $carried } d'investissement dans cette installation ; impossible de rembourser { $cost } de coût
msg-valuation-below-books = une VNI de { $nav } ferait passer les investissements ({ $carried }) sous zéro
msg-valuation-before-latest = une valorisation au { $date } précède la dernière du fonds, au { $latest } ; valorisez à cette date ou après
msg-valuation-in-future = une valorisation au { $date } est postérieure à aujourd'hui, le { $today } ; valorisez le fonds à une date passée
msg-call-in-future = un appel daté du { $date } est postérieur à aujourd'hui, le { $today } ; émettez-le à une date passée
msg-contribution-in-future = un versement daté du { $date } est postérieur à aujourd'hui, le { $today } ; enregistrez-le une fois reçu
msg-deployment-in-future = un investissement daté du { $date } est postérieur à aujourd'hui, le { $today } ; enregistrez-le une fois les fonds versés
msg-proceeds-in-future = des produits datés du { $date } sont postérieurs à aujourd'hui, le { $today } ; enregistrez-les une fois les fonds reçus
msg-distribution-in-future = une distribution datée du { $date } est postérieure à aujourd'hui, le { $today } ; prévisualisez-la maintenant et exécutez-la à cette date
msg-write-down-in-future = une dépréciation datée du { $date } est postérieure à aujourd'hui, le { $today } ; dépréciez l'investissement à une date passée
msg-before-valuation = le fonds a été valorisé au { $latest } ; une écriture qui modifie sa valeur nette doit être datée d'après cette valorisation
msg-price-version-exists = un prix au { $date } existe ; un nouveau prix prend une nouvelle date d'effet
msg-price-before-award = la dernière attribution de l'installation, le { $latest }, garde le prix alors en vigueur ; un nouveau prix prend effet après cette date
msg-no-price = l'installation n'a pas de prix catalogue en vigueur le { $date }
msg-floor-breach = le compte { $code } { $name }{ $party ->
        [none] {""}
       *[other] {" "}pour la partie { $party }
    } s'établirait à { $held }{ $side ->
        [credit] {" "}en solde créditeur
       *[debit] {""}
    } le { $date }, première date où il passerait sous zéro ; il ne le doit pas à partir du { $from }
msg-account-code-taken = le code de compte { $code } existe déjà dans ce fonds
msg-already-reversed = l'écriture { $entry } est déjà contrepassée
msg-account-kept-by-grants = le compte { $code } porte les budgets des appels à propositions et l'aide des attributions, que seuls les appels, attributions, consommations et expirations font varier (alimentez ou prélevez le pool sur le compte 1010)
msg-account-kept-by-commitments = le compte { $code } porte les engagements non appelés, que seuls les engagements, leurs avenants et les appels de fonds font varier
msg-account-kept-by-calls = le compte { $code } porte ce que les appels de fonds demandent et que les versements paient, avis par avis, que seuls les appels et les versements font varier
msg-unknown-posting-party = { $party } n'est ni un investisseur, ni une installation, ni un appel à propositions, ni une PME bénéficiaire d'une attribution dans ces comptes
msg-unknown-account = aucun compte { $code } dans ce fonds
msg-seniority-taken = le fonds a déjà une tranche de rang { $seniority }
msg-first-loss-not-most-junior = une tranche de première perte est de rang inférieur à toute autre tranche, et toute autre au-dessus d'elle : { $other } a le rang { $seniority }
msg-tranche-name-taken = le fonds a déjà une tranche nommée « { $name } »
msg-source-name-taken = une source nommée « { $name } » existe
msg-lei-taken = le LEI { $lei } appartient à une autre source
msg-facility-name-taken = une installation nommée « { $name } » existe
msg-fund-name-taken = un fonds nommé « { $name } » existe
msg-call-name-taken = un appel à propositions nommé « { $name } » existe
msg-username-taken = l'utilisateur { $username } existe
msg-quarters-range = doit être de 0 à { $max } trimestres après « from »
msg-usage-batch-size = doit contenir de 1 à { $max } relevés
msg-limit-range = doit être compris entre 1 et { $max }
msg-not-an-sme = pas une PME : avec ses entreprises partenaires et liées, la société compte { $awu } unités de travail annuel, un chiffre d'affaires de { $turnover } et un total du bilan de { $balance_sheet }, au-delà des plafonds des moyennes entreprises (moins de 250 UTA et un chiffre d'affaires jusqu'à 50 000 000,00 EUR ou un bilan jusqu'à 43 000 000,00 EUR)
msg-publicly-controlled = pas une PME : des organismes publics détiennent { $percent } du capital ou des droits de vote, 25 % ou plus (recommandation 2003/361, art. 3, par. 4), et aucune des exceptions de l'art. 3, par. 2, ne s'applique
msg-undeclared = à déclarer : { $what }
msg-sector-excluded = une aide de minimis est exclue pour : { $sector } (règlement 2023/2831, art. 1er, par. 1) ; l'activité principale est NACE { $nace }
msg-in-difficulty = une aide RGEC ne peut pas aller à une entreprise en difficulté (RGEC, art. 1er, par. 4, point c)
msg-recovery-order = une aide RGEC ne peut pas aller à une entreprise faisant l'objet d'une injonction de récupération en suspens (RGEC, art. 1er, par. 4, point a)
msg-bonus-not-allowed = cet appel n'admet pas la majoration de collaboration ou de diffusion de l'art. 25, par. 6, point b
msg-cumulation-exceeded = les aides pour les mêmes coûts ne peuvent pas se cumuler au-delà de { $highest } : d'autres aides de { $other } représentent { $other_percent } des { $costs } de coûts admissibles, ce qui ne laisse rien pour cette attribution
msg-not-in-eu = pas établie dans l'UE à 27 : « { $country } » n'est pas un État membre de l'UE à 27 (ISO 3166-1 alpha-2, p. ex. FR, DE, GR)
msg-call-not-open = l'appel ouvre le { $at } UTC
msg-call-closed = l'appel a fermé le { $at } UTC
msg-hours-above-maximum = { $requested } heures GPU demandées, au-delà du maximum de l'appel de { $maximum } par attribution
msg-facility-not-eligible = l'installation n'est pas admissible dans cet appel
msg-period-ends-before-start = la période finit ({ $end }) avant de commencer ({ $start })
msg-period-too-long = la période dure plus de { $max } jours
msg-de-minimis-exceeded = plafond de minimis dépassé : sur les trois années jusqu'au { $date }, { $scope ->
        [group] les membres de l'entreprise unique
       *[single] l'entreprise
    } : { $members } ; cela fait { $prior }, et avec { $requested } demandés { $total }, au-delà de { $ceiling } (au plus { $headroom } peuvent encore être accordés)
msg-de-minimis-member = { $name } ({ $key }) a déclaré { $declared } reçus ailleurs et s'est vu accorder { $granted } ici
msg-too-few-reviews = la demande a { $have } évaluation(s) ; l'appel en exige au moins { $need }
msg-score-below-minimum = la note moyenne { $average } est inférieure au minimum de l'appel, { $minimum }
msg-above-requested = { $awarded } heures GPU, c'est plus que les { $requested } demandées ; les heures ne peuvent qu'être revues à la baisse
msg-zero-hours = une attribution exige plus de zéro heure GPU
msg-capacity-short = { $quarter } : l'installation a { $free } heures GPU libres sur { $capacity } ; l'attribution en demande { $wanted }
msg-usage-record-id = record_id doit compter de 1 à { $max } caractères ASCII visibles
msg-usage-zero-hours = gpu_hours doit être supérieur à zéro
msg-usage-period = period_end doit être postérieur à period_start
msg-usage-period-not-ended = la période se termine le { $end }, après l'arrivée de ce lot (à { $seconds } secondes près) ; déclarez l'usage une fois la période terminée
msg-usage-implausible = { $hours } heures GPU ne tiennent pas dans la période : au plus { $gpus } GPU pendant { $seconds } s
msg-usage-not-this-facility = aucune attribution avec cet identifiant dans votre installation
msg-usage-record-id-conflict = ce record_id a déjà été compté avec un autre contenu
msg-usage-award-not-running = l'attribution a pris fin (achevée ou expirée) ou n'a jamais été faite
msg-usage-outside-period = l'attribution court du { $start } au { $end }
msg-usage-above-award = { $hours } heures GPU porteraient l'attribution au-delà de ses { $awarded } heures : il en reste { $remaining }
msg-upload-too-large = plus de { $max } octets
msg-upload-unreadable = le fichier envoyé n'a pas pu être lu : { $error }
msg-upload-one-file = envoyez un seul fichier à la fois
msg-upload-not-csv = pas un fichier CSV : { $error }
msg-upload-columns = la ligne d'en-tête doit nommer les colonnes { $columns }
msg-upload-row = ligne { $row } : { $error }
msg-upload-rows = plus de { $max } lignes
msg-entry-records-an-event = l'écriture { $number } enregistre un événement « { $event } » que les livres tiennent aussi hors du journal ; la contrepasser seule mettrait les deux en désaccord (seules les écritures manuelles et les produits se contrepassent ainsi ; corrigez l'événement ou passez une écriture manuelle corrective)
msg-terms-not-json = JSON non valide (ligne { $line }, colonne { $column })
msg-import-empty = le fichier n'a aucune ligne sous son en-tête
msg-import-lines = plus de { $max } lignes sous l'en-tête
msg-import-hours = pas un nombre d'heures GPU : { $error }
msg-import-uuid = pas un identifiant d'attribution (UUID) : { $text }
msg-import-rfc3339 = pas une heure telle que 2026-06-01T08:00:00Z : { $text }
msg-import-required = une valeur manque
msg-import-slurm-columns = la ligne d'en-tête doit nommer les colonnes { $columns } (sacct --parsable2 --format=…)
msg-import-fields = { $expected } champs séparés par | étaient attendus, { $found } trouvés
msg-import-job-step = une étape de tâche : la ligne de sa tâche compte l'allocation
msg-import-not-ended = la tâche n'est pas terminée (End vaut { $end })
msg-import-slurm-time = pas une heure telle que 2026-06-01T08:00:00 : { $text }
msg-import-gpus = aucun nombre de GPU lisible dans { $text }
msg-import-no-gpus = aucun GPU n'a été alloué à cette tâche
msg-import-no-hours = la tâche a été trop brève pour faire un millième d'heure GPU
msg-import-unmapped = le compte Slurm { $account } n'est associé à aucune attribution de ce centre
msg-slurm-account = un nom de compte Slurm de 1 à { $max } caractères (lettres, chiffres, - _ .)
msg-slurm-account-award = aucune attribution de cet identifiant dans votre centre
msg-cloudevents-array = un lot CloudEvents est un tableau JSON d'événements
msg-cloudevents-object = un événement est un objet JSON
msg-cloudevents-string = une chaîne non vide est requise
msg-cloudevents-data = data doit être un objet avec gpu_hours, period_start et period_end
msg-cloudevents-specversion = specversion doit valoir 1.0
msg-cloudevents-type = type doit valoir { $type }
msg-cloudevents-datacontenttype = datacontenttype doit valoir application/json
msg-proposal-unreadable = cette proposition a été enregistrée selon des règles que le service n'applique plus ({ $error }) ; elle ne peut être approuvée : rejetez-la ou retirez-la, puis proposez-la à nouveau
