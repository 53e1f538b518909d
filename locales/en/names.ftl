# Codes shown as words: programmes, statuses, roles, refusals, SME categories, aid bases.
programme-digital-europe = Digital Europe Programme
programme-horizon-europe = Horizon Europe
programme-investeu = InvestEU
programme-eib = EIB Group
programme-cohesion = Cohesion funds
programme-private = Private investors
programme-unattributed = Not attributed
programme-eu-programme = EU programme
programme-member-state = Member State
programme-member-state-cohesion = Member State cohesion funds

status-draft = Draft
status-submitted = Submitted
status-under-review = Under review
status-awarded = Awarded
status-rejected = Rejected
status-completed = Completed
status-expired = Expired
status-active = Active
status-open = Open
status-closed = Closed
status-paid = Paid
status-partly-paid = Partly paid
status-unpaid = Unpaid
status-pending = Pending
status-approved = Approved
status-executed = Executed
status-withdrawn = Withdrawn
status-failed = Failed

role-staff = Fund staff
role-investor = Investor
role-auditor = Auditor
role-sme = SME
role-facility = Facility operator
role-admin = Administrator

category-micro = Micro enterprise
category-small = Small enterprise
category-medium = Medium-sized enterprise
category-not-sme = Not an SME

basis-de-minimis = De minimis aid
basis-industrial-research = Industrial research (GBER Art. 25(2)(b))
basis-experimental-development = Experimental development (GBER Art. 25(2)(c))

refusal-not-an-sme = The enterprise is not an SME
refusal-publicly-controlled = Controlled by public bodies (25% or more)
refusal-declaration-missing = A required declaration is missing
refusal-sector-excluded = The sector is excluded from this aid
refusal-undertaking-in-difficulty = Undertaking in difficulty
refusal-outstanding-recovery-order = Outstanding recovery order
refusal-bonus-not-allowed = The call allows no bonus
refusal-cumulation-exceeded = Other aid for the same costs leaves no intensity
refusal-not-in-eu = Not established in the EU
refusal-call-not-open = The call is not open yet
refusal-call-closed = The call is closed
refusal-hours-above-call-maximum = More hours than the call allows
refusal-facility-not-eligible = The facility is not eligible for this call
refusal-invalid-period = The period of use is not valid
refusal-de-minimis-exceeded = The de minimis ceiling would be exceeded
refusal-too-few-reviews = Too few reviews
refusal-score-below-minimum = Score below the call's minimum
refusal-hours-not-awardable = These hours cannot be awarded

account-kind-asset = Asset account
account-kind-liability = Liability account
account-kind-equity = Equity account
account-kind-income = Income account
account-kind-expense = Expense account
account-kind-memorandum = Memorandum account

facility-kind-gigafactory = AI gigafactory
facility-kind-ai-factory = AI factory

proposal-distribution = Distribution
proposal-grant-award = Grant award
proposal-grant-rejection = Grant rejection
proposal-capital-call = Capital call
proposal-manual-entry = Manual entry
proposal-waterfall-terms = Waterfall terms
proposal-write-down = Write-down
proposal-reversal = Reversal
proposal-facility-price = Facility price
proposal-user-role = Role change
proposal-bank-account = Bank account
status-partial = Partly paid
status-late = late
programme-eib-group = EIB Group

# Terms inside refusals: what must be declared, sectors de minimis aid excludes.
declared-the-nace-code-of-the-main-activity = the NACE code of the main activity
declared-the-nuts-2-region-of-establishment = the NUTS 2 region of establishment
declared-each-related-enterprise-s-legal-name-country-and-register-or-vat-number = each related enterprise's legal name, country and register or VAT number
declared-whether-the-undertaking-is-in-difficulty = whether the undertaking is in difficulty
declared-whether-the-undertaking-is-under-an-outstanding-recovery-order = whether the undertaking is under an outstanding recovery order
sector-fishery-and-aquaculture = fishery and aquaculture
sector-primary-production-of-agricultural-products = primary production of agricultural products

# Kinds of journal entry, by the event they record.
event-capital-call = Capital call
event-contribution = Contribution
event-deployment = Deployment
event-distribution = Distribution
event-grant-award = Grant award
event-grant-call = Grant call
event-grant-lapse = Grant lapse
event-grant-usage = Grant usage
event-manual = Manual entry
event-manual-entry = Manual entry
event-proceeds = Proceeds
event-reversal = Reversal
event-valuation = Valuation
event-write-down = Write-down

# Steps of a timeline.
step-done = Done
step-pending = Pending
step-upcoming = Upcoming
