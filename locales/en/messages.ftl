# Sentences with data (refusals naming their figures), said by the pages in the reader's
# language and by the API in English. Arguments come formatted for the language.

msg-call-above-unfunded = { $call } cannot be called from { $tranche }: its unfunded commitments on the call date total { $unfunded }
msg-too-many-investors = a call reaches at most { $max } investors per tranche
msg-too-many-positions = positions are valued and allocated for at most { $max } commitments per fund; this fund has more
msg-over-payment = the notice has { $outstanding } outstanding of { $amount }; { $paid } would over-pay it
msg-above-tranche-target = commitments to { $tranche } would reach { $after }, above its target of { $target }; staff may allow an over-subscription explicitly
msg-below-minimum-ticket = the minimum ticket of { $tranche } is { $ticket }
msg-decrease-below-called = { $called } is already called; the commitment cannot fall below it (at most { $removable } can be removed)
msg-amendment-before-commitment = the commitment took effect on { $since }; it cannot be changed on { $date }, before it existed
msg-commitment-before-call = the tranche was called on { $latest }, on what was committed then; a commitment or an amendment must be dated after it
msg-commitment-before-distribution = the fund distributed on { $latest }, on what was committed then; a commitment or an amendment must be dated after it
msg-called-above-committed = taking { $removed } from the commitment from { $from } on would leave it, on { $date }, at { $committed } committed against { $called } already called by then
msg-not-submitted-award = the application is { $status }; only submitted applications are awarded
msg-budget-exhausted = the award's aid value is { $aid }; the call has { $remaining } of its budget left
msg-not-a-draft-change = the application is { $status }; only drafts change
msg-not-a-draft-submit = the application is { $status }; only a draft is submitted
msg-not-submitted-review = the application is { $status }; only submitted applications are reviewed
msg-not-submitted-decide = the application is { $status }; only submitted applications are decided
msg-score-range = must be 0 to { $max }
msg-already-reviewed = { $reviewer } has reviewed this application
msg-distribution-out-of-order = the fund distributed on { $latest }; a new distribution cannot be dated before it
msg-write-down-out-of-order = the fund wrote an investment down on { $latest }; a new write-down cannot be dated before it
msg-distribution-before-write-down = the fund wrote an investment down on { $latest }; a distribution must be dated after it
msg-contribution-before-distribution = the fund distributed on { $latest }, by the capital paid in by then; a contribution must be dated after it
msg-contribution-before-write-down = the fund wrote an investment down on { $latest }, on the capital paid in by then; a contribution must be dated after it
msg-write-down-above-investment = the fund carries { $carried } in { $facility }; { $amount } cannot be written down
msg-cost-above-investment = the fund carries { $carried } of investment in this facility; { $cost } of cost cannot be returned
msg-valuation-below-books = a NAV of { $nav } would write investments ({ $carried }) below zero
msg-valuation-before-latest = a valuation as of { $date } comes before the fund's latest, as of { $latest }; value on or after that date
msg-valuation-in-future = a valuation as of { $date } is ahead of today, { $today }; value the fund on a date that has come
msg-call-in-future = a call dated { $date } is ahead of today, { $today }; issue it on a date that has come
msg-contribution-in-future = a payment dated { $date } is ahead of today, { $today }; record it once it has been received
msg-deployment-in-future = a deployment dated { $date } is ahead of today, { $today }; record it once the cash has been paid
msg-proceeds-in-future = proceeds dated { $date } are ahead of today, { $today }; record them once the cash has been received
msg-distribution-in-future = a distribution dated { $date } is ahead of today, { $today }; preview it now and execute it on that date
msg-write-down-in-future = a write-down dated { $date } is ahead of today, { $today }; write the investment down on a date that has come
msg-before-valuation = the fund was valued as of { $latest }; a write that moves its NAV must be dated after that valuation
msg-price-version-exists = a price from { $date } exists; a new price takes a new effective date
msg-price-before-award = the facility's latest award, on { $latest }, keeps the price then in force; a new price takes effect after that date
msg-no-price = the facility has no list price in force on { $date }
msg-floor-breach = account { $code } { $name }{ $party ->
        [none] {""}
       *[other] {" "}for party { $party }
    } would stand at { $held }{ $side ->
        [credit] {" "}as a credit balance
       *[debit] {""}
    } on { $date }, the first date it would go below zero; it must not from { $from } on
msg-account-code-taken = account code { $code } already exists in this fund
msg-already-reversed = entry { $entry } is already reversed
msg-account-kept-by-grants = account { $code } holds the budgets of grant calls and the aid of awards, which only calls, awards, usage and lapses move (move money into or out of the pool on account 1010)
msg-account-kept-by-commitments = account { $code } holds the unfunded commitments, which only commitments, their amendments and capital calls move
msg-account-kept-by-calls = account { $code } holds what capital calls ask and contributions pay, notice by notice, which only calls and contributions move
msg-unknown-posting-party = { $party } is no investor, facility, grant call or SME with an award of these books
msg-unknown-account = no account { $code } in this fund
msg-seniority-taken = the fund already has a tranche of seniority { $seniority }
msg-first-loss-not-most-junior = a first-loss tranche ranks below every other tranche, and every other above it: { $other } has seniority { $seniority }
msg-tranche-name-taken = the fund already has a tranche named "{ $name }"
msg-source-name-taken = a source named "{ $name }" exists
msg-lei-taken = LEI { $lei } belongs to another source
msg-facility-name-taken = a facility named "{ $name }" exists
msg-fund-name-taken = a fund named "{ $name }" exists
msg-call-name-taken = a grant call named "{ $name }" exists
msg-username-taken = user { $username } exists
msg-quarters-range = must be from 0 to { $max } quarters after `from`
msg-usage-batch-size = must hold 1 to { $max } records
msg-limit-range = must be 1 to { $max }
msg-not-an-sme = not an SME: with partner and linked enterprises the company has { $awu } annual work units, a turnover of { $turnover } and a balance sheet of { $balance_sheet }, above the medium-sized ceilings (fewer than 250 AWU and a turnover up to 50000000.00 or a balance sheet up to 43000000.00)
msg-publicly-controlled = not an SME: public bodies hold { $percent } of the capital or voting rights, 25% or more (Recommendation 2003/361 Art. 3(4)), and none of the Art. 3(2) exceptions covers it
msg-undeclared = { $what } must be declared
msg-sector-excluded = de minimis aid may not go to { $sector } (Regulation 2023/2831 Art. 1(1)); the main activity is NACE { $nace }
msg-in-difficulty = GBER aid may not go to an undertaking in difficulty (GBER Art. 1(4)(c))
msg-recovery-order = GBER aid may not go to an undertaking under an outstanding recovery order (GBER Art. 1(4)(a))
msg-bonus-not-allowed = this call does not allow the Art. 25(6)(b) collaboration or dissemination bonus
msg-cumulation-exceeded = aid for the same costs may not cumulate above { $highest }: other aid of { $other } is { $other_percent } of the { $costs } of eligible costs, leaving nothing for this award
msg-not-in-eu = not established in the EU-27: "{ $country }" is not an EU-27 Member State (ISO 3166-1 alpha-2, e.g. FR, DE, GR)
msg-call-not-open = the call opens at { $at } UTC
msg-call-closed = the call closed at { $at } UTC
msg-hours-above-maximum = { $requested } GPU-hours requested, above the call's maximum of { $maximum } per award
msg-facility-not-eligible = the facility is not eligible under this call
msg-period-ends-before-start = the period ends ({ $end }) before it starts ({ $start })
msg-period-too-long = the period lasts more than { $max } days
msg-de-minimis-exceeded = de minimis ceiling exceeded: in the three years to { $date }, { $scope ->
        [group] the single undertaking's members
       *[single] the undertaking
    }: { $members }; that is { $prior }, and with { $requested } requested { $total }, above { $ceiling } (at most { $headroom } more can be granted)
msg-de-minimis-member = { $name } ({ $key }) declared { $declared } received elsewhere and was granted { $granted } here
msg-too-few-reviews = the application has { $have } review(s); the call needs at least { $need }
msg-score-below-minimum = the average score { $average } is below the call's minimum of { $minimum }
msg-above-requested = { $awarded } GPU-hours is more than the { $requested } requested; hours may only be adjusted down
msg-zero-hours = an award needs more than zero GPU-hours
msg-capacity-short = { $quarter }: the facility has { $free } GPU-hours free of { $capacity }; the award needs { $wanted }
msg-usage-record-id = record_id must be 1 to { $max } visible ASCII characters
msg-usage-zero-hours = gpu_hours must be greater than zero
msg-usage-period = period_end must be after period_start
msg-usage-period-not-ended = the period ends at { $end }, after this batch arrived (give or take { $seconds } seconds); report usage once its period has ended
msg-usage-implausible = { $hours } GPU-hours do not fit in the period: at most { $gpus } GPUs for { $seconds } s
msg-usage-not-this-facility = no award with this id at your facility
msg-usage-record-id-conflict = this record_id was already counted with other content
msg-usage-award-not-running = the award has ended (completed or lapsed) or was never made
msg-usage-outside-period = the award runs from { $start } to { $end }
msg-usage-above-award = { $hours } GPU-hours would take the award above its { $awarded } hours: { $remaining } remain
msg-upload-too-large = larger than { $max } bytes
msg-upload-unreadable = the upload could not be read: { $error }
msg-upload-one-file = send one file at a time
msg-upload-not-csv = not a CSV file: { $error }
msg-upload-columns = the header row must name the columns { $columns }
msg-upload-row = row { $row }: { $error }
msg-upload-rows = more than { $max } rows
msg-entry-records-an-event = entry { $number } records a { $event } that the books also hold outside the journal; reversing the entry alone would leave the two disagreeing (only manual entries and proceeds are reversed this way; correct the event, or post a correcting manual entry)
msg-terms-not-json = not valid JSON (line { $line }, column { $column })
msg-import-empty = the file has no lines below its header
msg-import-lines = more than { $max } lines below the header
msg-import-hours = not a number of GPU-hours: { $error }
msg-import-uuid = not an award id (a UUID): { $text }
msg-import-rfc3339 = not a time such as 2026-06-01T08:00:00Z: { $text }
msg-import-required = a value is missing
msg-import-slurm-columns = the header line must name the columns { $columns } (sacct --parsable2 --format=…)
msg-import-fields = { $expected } fields separated by | were expected, { $found } found
msg-import-job-step = a job step: its job's line counts the allocation
msg-import-not-ended = the job has not run to its end (End is { $end })
msg-import-slurm-time = not a time such as 2026-06-01T08:00:00: { $text }
msg-import-gpus = no GPU count could be read from { $text }
msg-import-no-gpus = no GPU was allocated to this job
msg-import-no-hours = the job ran too briefly to make a thousandth of a GPU-hour
msg-import-unmapped = the Slurm account { $account } is mapped to no award of this facility
msg-slurm-account = a Slurm account name of 1 to { $max } characters (letters, digits, - _ .)
msg-slurm-account-award = no award with this id at your facility
msg-cloudevents-array = a CloudEvents batch is a JSON array of events
msg-cloudevents-object = an event is a JSON object
msg-cloudevents-string = a non-empty string is required
msg-cloudevents-data = data must be an object with gpu_hours, period_start and period_end
msg-cloudevents-specversion = specversion must be 1.0
msg-cloudevents-type = type must be { $type }
msg-cloudevents-datacontenttype = datacontenttype must be application/json
msg-proposal-unreadable = this proposal was stored under rules the service no longer reads it by ({ $error }); it cannot be approved: reject or withdraw it, and propose it again
