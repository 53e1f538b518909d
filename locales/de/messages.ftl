# Sätze mit Daten (Ablehnungen mit ihren Zahlen), von den Seiten in der Sprache der Leserin
# oder des Lesers gesagt, von der API auf Englisch. Die Argumente kommen für die Sprache formatiert.

msg-call-above-unfunded = { $call } können nicht aus { $tranche } abgerufen werden: die am Abrufdatum nicht abgerufenen Zusagen betragen { $unfunded }
msg-too-many-investors = ein Abruf erreicht höchstens { $max } Investoren je Tranche
msg-too-many-positions = Positionen werden für höchstens { $max } Zusagen je Fonds bewertet und zugeteilt; dieser Fonds hat mehr
msg-over-payment = der Bescheid hat { $outstanding } von { $amount } offen; { $paid } würden ihn überzahlen
msg-above-tranche-target = die Zusagen an { $tranche } erreichten { $after }, über ihrem Ziel von { $target }; Mitarbeitende können eine Überzeichnung ausdrücklich zulassen
msg-below-minimum-ticket = das Mindestticket von { $tranche } beträgt { $ticket }
msg-decrease-below-called = { $called } sind bereits abgerufen; die Zusage kann nicht darunter sinken (höchstens { $removable } können entfernt werden)
msg-amendment-before-commitment = die Zusage gilt seit dem { $since }; sie kann nicht zum { $date } geändert werden, bevor es sie gab
msg-commitment-before-call = die Tranche wurde am { $latest } abgerufen, nach den damaligen Zusagen; eine Zusage oder Änderung muss danach datiert werden
msg-commitment-before-distribution = der Fonds hat am { $latest } ausgeschüttet, nach den damaligen Zusagen; eine Zusage oder Änderung muss danach datiert werden
msg-called-above-committed = { $removed } ab dem { $from } von der Zusage abzuziehen ließe sie am { $date } bei { $committed } zugesagt, während bis dahin bereits { $called } abgerufen waren
msg-not-submitted-award = der Antrag hat den Status „{ $status }“; nur eingereichte Anträge werden bewilligt
msg-budget-exhausted = der Beihilfewert der Bewilligung beträgt { $aid }; die Ausschreibung hat noch { $remaining } ihres Budgets
msg-not-a-draft-change = der Antrag hat den Status „{ $status }“; nur Entwürfe werden geändert
msg-not-a-draft-submit = der Antrag hat den Status „{ $status }“; nur ein Entwurf wird eingereicht
msg-not-submitted-review = der Antrag hat den Status „{ $status }“; nur eingereichte Anträge werden begutachtet
msg-not-submitted-decide = der Antrag hat den Status „{ $status }“; nur über eingereichte Anträge wird entschieden
msg-score-range = muss zwischen 0 und { $max } liegen
msg-already-reviewed = { $reviewer } hat diesen Antrag bereits begutachtet
msg-distribution-out-of-order = der Fonds hat am { $latest } ausgeschüttet; eine neue Ausschüttung kann nicht davor datiert werden
msg-write-down-out-of-order = der Fonds hat am { $latest } eine Beteiligung abgeschrieben; eine neue Abschreibung kann nicht davor datiert werden
msg-distribution-before-write-down = der Fonds hat am { $latest } eine Beteiligung abgeschrieben; eine Ausschüttung muss danach datiert werden
msg-contribution-before-distribution = der Fonds hat am { $latest } ausgeschüttet, nach dem bis dahin eingezahlten Kapital; eine Einzahlung muss danach datiert werden
msg-contribution-before-write-down = der Fonds hat am { $latest } eine Beteiligung abgeschrieben, auf das bis dahin eingezahlte Kapital; eine Einzahlung muss danach datiert werden
msg-write-down-above-investment = der Fonds führt { $carried } in { $facility }; { $amount } können nicht abgeschrieben werden
msg-cost-above-investment = der Fonds führt { $carried } Investition in dieser Anlage; { $cost } Kosten können nicht zurückgeführt werden
msg-valuation-below-books = ein NAV von { $nav } würde die Investitionen ({ $carried }) unter null schreiben
msg-valuation-before-latest = eine Bewertung zum { $date } liegt vor der letzten des Fonds zum { $latest }; bewerten Sie zu diesem Datum oder danach
msg-valuation-in-future = eine Bewertung zum { $date } liegt nach dem heutigen { $today }; bewerten Sie den Fonds zu einem vergangenen Datum
msg-call-in-future = ein Kapitalabruf zum { $date } liegt nach dem heutigen { $today }; rufen Sie zu einem vergangenen Datum ab
msg-contribution-in-future = eine Einzahlung zum { $date } liegt nach dem heutigen { $today }; erfassen Sie sie, sobald sie eingegangen ist
msg-deployment-in-future = eine Investition zum { $date } liegt nach dem heutigen { $today }; erfassen Sie sie, sobald das Geld gezahlt ist
msg-proceeds-in-future = Erlöse zum { $date } liegen nach dem heutigen { $today }; erfassen Sie sie, sobald das Geld eingegangen ist
msg-distribution-in-future = eine Ausschüttung zum { $date } liegt nach dem heutigen { $today }; sehen Sie sie jetzt vor und führen Sie sie an diesem Datum aus
msg-write-down-in-future = eine Abschreibung zum { $date } liegt nach dem heutigen { $today }; schreiben Sie die Beteiligung zu einem vergangenen Datum ab
msg-before-valuation = der Fonds wurde zum { $latest } bewertet; eine Buchung, die seinen Nettoinventarwert ändert, muss danach datiert werden
msg-price-version-exists = ein Preis ab { $date } besteht; ein neuer Preis braucht ein neues Gültigkeitsdatum
msg-price-before-award = die letzte Zuteilung der Anlage am { $latest } behält den damals gültigen Preis; ein neuer Preis gilt erst nach diesem Datum
msg-no-price = die Anlage hat am { $date } keinen gültigen Listenpreis
msg-floor-breach = Konto { $code } { $name }{ $party ->
        [none] {""}
       *[other] {" "}für Partei { $party }
    } stünde am { $date } bei { $held }{ $side ->
        [credit] {" "}als Habensaldo
       *[debit] {""}
    }, dem ersten Tag unter null; ab dem { $from } darf es das nicht
msg-account-code-taken = der Kontocode { $code } besteht in diesem Fonds bereits
msg-already-reversed = die Buchung { $entry } ist bereits storniert
msg-account-kept-by-grants = das Konto { $code } führt die Budgets der Ausschreibungen und die Beihilfe der Bewilligungen, die nur Ausschreibungen, Bewilligungen, Nutzung und Verfall bewegen (Geld in den oder aus dem Pool über Konto 1010 bewegen)
msg-account-kept-by-commitments = das Konto { $code } führt die nicht abgerufenen Zusagen, die nur Zusagen, ihre Änderungen und Kapitalabrufe bewegen
msg-account-kept-by-calls = das Konto { $code } führt, was Kapitalabrufe fordern und Einzahlungen begleichen, Mitteilung für Mitteilung, was nur Abrufe und Einzahlungen bewegen
msg-unknown-posting-party = { $party } ist weder Investor noch Anlage, Ausschreibung oder KMU mit einer Bewilligung in diesen Büchern
msg-unknown-account = kein Konto { $code } in diesem Fonds
msg-seniority-taken = der Fonds hat bereits eine Tranche mit Rang { $seniority }
msg-first-loss-not-most-junior = eine Erstverlusttranche steht im Rang unter jeder anderen Tranche und jede andere über ihr: { $other } hat den Rang { $seniority }
msg-tranche-name-taken = der Fonds hat bereits eine Tranche namens „{ $name }“
msg-source-name-taken = eine Quelle namens „{ $name }“ besteht
msg-lei-taken = der LEI { $lei } gehört einer anderen Quelle
msg-facility-name-taken = eine Anlage namens „{ $name }“ besteht
msg-fund-name-taken = ein Fonds namens „{ $name }“ besteht
msg-call-name-taken = eine Ausschreibung namens „{ $name }“ besteht
msg-username-taken = der Benutzer { $username } besteht
msg-quarters-range = muss 0 bis { $max } Quartale nach „from“ liegen
msg-usage-batch-size = muss 1 bis { $max } Datensätze enthalten
msg-limit-range = muss zwischen 1 und { $max } liegen
msg-not-an-sme = kein KMU: mit Partner- und verbundenen Unternehmen hat die Gesellschaft { $awu } Jahresarbeitseinheiten, einen Umsatz von { $turnover } und eine Bilanzsumme von { $balance_sheet }, über den Schwellen mittlerer Unternehmen (weniger als 250 JAE und ein Umsatz bis 50.000.000,00 EUR oder eine Bilanzsumme bis 43.000.000,00 EUR)
msg-publicly-controlled = kein KMU: öffentliche Stellen halten { $percent } des Kapitals oder der Stimmrechte, 25 % oder mehr (Empfehlung 2003/361 Art. 3 Abs. 4), und keine der Ausnahmen des Art. 3 Abs. 2 greift
msg-undeclared = anzugeben: { $what }
msg-sector-excluded = De-minimis-Beihilfen dürfen nicht gehen an: { $sector } (Verordnung 2023/2831 Art. 1 Abs. 1); die Haupttätigkeit ist NACE { $nace }
msg-in-difficulty = AGVO-Beihilfen dürfen nicht an ein Unternehmen in Schwierigkeiten gehen (AGVO Art. 1 Abs. 4 Buchst. c)
msg-recovery-order = AGVO-Beihilfen dürfen nicht an ein Unternehmen mit offener Rückforderungsanordnung gehen (AGVO Art. 1 Abs. 4 Buchst. a)
msg-bonus-not-allowed = diese Ausschreibung lässt den Zuschlag für Zusammenarbeit oder Verbreitung nach Art. 25 Abs. 6 Buchst. b nicht zu
msg-cumulation-exceeded = Beihilfen für dieselben Kosten dürfen nicht über { $highest } kumuliert werden: andere Beihilfen von { $other } sind { $other_percent } der { $costs } beihilfefähigen Kosten, für diese Bewilligung bleibt nichts
msg-not-in-eu = nicht in der EU-27 niedergelassen: „{ $country }“ ist kein Mitgliedstaat der EU-27 (ISO 3166-1 Alpha-2, z. B. FR, DE, GR)
msg-call-not-open = die Ausschreibung öffnet am { $at } UTC
msg-call-closed = die Ausschreibung hat am { $at } UTC geschlossen
msg-hours-above-maximum = { $requested } GPU-Stunden beantragt, über dem Höchstwert der Ausschreibung von { $maximum } je Bewilligung
msg-facility-not-eligible = die Anlage ist in dieser Ausschreibung nicht förderfähig
msg-period-ends-before-start = der Zeitraum endet ({ $end }), bevor er beginnt ({ $start })
msg-period-too-long = der Zeitraum dauert länger als { $max } Tage
msg-de-minimis-exceeded = De-minimis-Höchstbetrag überschritten: in den drei Jahren bis zum { $date }, { $scope ->
        [group] die Mitglieder des einzigen Unternehmens
       *[single] das Unternehmen
    }: { $members }; das sind { $prior }, und mit { $requested } beantragt { $total }, über { $ceiling } (höchstens { $headroom } können noch gewährt werden)
msg-de-minimis-member = { $name } ({ $key }) hat { $declared } anderweitig erhaltene Beihilfen angegeben und hier { $granted } erhalten
msg-too-few-reviews = der Antrag hat { $have } Begutachtung(en); die Ausschreibung verlangt mindestens { $need }
msg-score-below-minimum = die Durchschnittsnote { $average } liegt unter dem Mindestwert der Ausschreibung von { $minimum }
msg-above-requested = { $awarded } GPU-Stunden sind mehr als die beantragten { $requested }; Stunden können nur nach unten angepasst werden
msg-zero-hours = eine Bewilligung braucht mehr als null GPU-Stunden
msg-capacity-short = { $quarter }: die Anlage hat { $free } GPU-Stunden von { $capacity } frei; die Bewilligung braucht { $wanted }
msg-usage-record-id = record_id muss 1 bis { $max } sichtbare ASCII-Zeichen lang sein
msg-usage-zero-hours = gpu_hours muss größer als null sein
msg-usage-period = period_end muss nach period_start liegen
msg-usage-period-not-ended = der Zeitraum endet am { $end }, nach dem Eingang dieses Stapels (auf { $seconds } Sekunden genau); melden Sie die Nutzung, wenn der Zeitraum beendet ist
msg-usage-implausible = { $hours } GPU-Stunden passen nicht in den Zeitraum: höchstens { $gpus } GPUs für { $seconds } s
msg-usage-not-this-facility = keine Bewilligung mit dieser Kennung an Ihrer Anlage
msg-usage-record-id-conflict = diese record_id wurde bereits mit anderem Inhalt gezählt
msg-usage-award-not-running = die Bewilligung ist beendet (abgeschlossen oder verfallen) oder wurde nie erteilt
msg-usage-outside-period = die Bewilligung läuft vom { $start } bis zum { $end }
msg-usage-above-award = { $hours } GPU-Stunden brächten die Bewilligung über ihre { $awarded } Stunden: { $remaining } bleiben
msg-upload-too-large = größer als { $max } Bytes
msg-upload-unreadable = die hochgeladene Datei konnte nicht gelesen werden: { $error }
msg-upload-one-file = senden Sie jeweils nur eine Datei
msg-upload-not-csv = keine CSV-Datei: { $error }
msg-upload-columns = die Kopfzeile muss die Spalten { $columns } nennen
msg-upload-row = Zeile { $row }: { $error }
msg-upload-rows = mehr als { $max } Zeilen
msg-entry-records-an-event = Buchung { $number } erfasst ein Ereignis der Art „{ $event }“, das die Bücher auch außerhalb des Journals führen; die Buchung allein zu stornieren ließe beide auseinanderlaufen (nur manuelle Buchungen und Erlöse werden so storniert; berichtigen Sie das Ereignis oder buchen Sie eine manuelle Korrekturbuchung)
msg-terms-not-json = kein gültiges JSON (Zeile { $line }, Spalte { $column })
msg-import-empty = die Datei hat keine Zeile unter ihrer Kopfzeile
msg-import-lines = mehr als { $max } Zeilen unter der Kopfzeile
msg-import-hours = keine Zahl von GPU-Stunden: { $error }
msg-import-uuid = keine Zuteilungs-ID (UUID): { $text }
msg-import-rfc3339 = keine Zeit wie 2026-06-01T08:00:00Z: { $text }
msg-import-required = ein Wert fehlt
msg-import-slurm-columns = die Kopfzeile muss die Spalten { $columns } nennen (sacct --parsable2 --format=…)
msg-import-fields = { $expected } durch | getrennte Felder erwartet, { $found } gefunden
msg-import-job-step = ein Job-Schritt: die Zeile seines Jobs zählt die Zuteilung
msg-import-not-ended = der Job ist nicht zu Ende gelaufen (End ist { $end })
msg-import-slurm-time = keine Zeit wie 2026-06-01T08:00:00: { $text }
msg-import-gpus = aus { $text } ist keine GPU-Zahl zu lesen
msg-import-no-gpus = diesem Job wurde keine GPU zugeteilt
msg-import-no-hours = der Job lief zu kurz für ein Tausendstel einer GPU-Stunde
msg-import-unmapped = das Slurm-Konto { $account } ist keiner Zuteilung dieses Rechenzentrums zugeordnet
msg-slurm-account = ein Slurm-Kontoname mit 1 bis { $max } Zeichen (Buchstaben, Ziffern, - _ .)
msg-slurm-account-award = keine Zuteilung mit dieser ID in Ihrem Rechenzentrum
msg-cloudevents-array = ein CloudEvents-Stapel ist ein JSON-Array von Ereignissen
msg-cloudevents-object = ein Ereignis ist ein JSON-Objekt
msg-cloudevents-string = eine nicht leere Zeichenkette ist nötig
msg-cloudevents-data = data muss ein Objekt mit gpu_hours, period_start und period_end sein
msg-cloudevents-specversion = specversion muss 1.0 sein
msg-cloudevents-type = type muss { $type } sein
msg-cloudevents-datacontenttype = datacontenttype muss application/json sein
msg-proposal-unreadable = dieser Vorschlag wurde nach Regeln gespeichert, nach denen der Dienst ihn nicht mehr liest ({ $error }); er kann nicht genehmigt werden: lehnen Sie ihn ab oder ziehen Sie ihn zurück und schlagen Sie ihn neu vor
