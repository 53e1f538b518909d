# Documents: PDF notices, statements and letters.
doc-issued-on = Issued on { $date }
doc-page = Page
doc-figures = Amounts in euro, to the cent, as recorded in the fund's books.
doc-fund-identity = { $kind } · inception { $inception } · target size { $target }
fund-kind-umbrella = Umbrella fund
fund-kind-compartment = Compartment

label-fund = Fund
label-investor = Investor
label-tranche = Tranche
label-description = Description
label-reference = Reference
label-total = Total

doc-call-notice = Capital call notice
doc-call-notice-number = Capital call no. { $number }
label-call-date = Call date
label-due-date = Due date
label-investment = Investment
label-fees = Management fees
label-expenses = Fund expenses
label-amount-called = Amount called
label-paid = Paid
label-outstanding = Outstanding
label-cumulative-called = Called to date, this notice included
label-remaining-unfunded = Unfunded commitment after this notice
doc-payment-instructions = Payment instructions
label-account-holder = Account holder
label-iban = IBAN
label-bic = BIC
label-payment-reference = Payment reference
label-amount-to-pay = Amount to pay
doc-pay-by = Please pay { $amount } by { $date } to the account above, quoting the payment reference, so that your payment is matched to this notice.
doc-paid-in-full = This notice is paid in full; nothing is due.
doc-no-bank-account = The fund has not registered a bank account yet; the fund administrator will send payment instructions separately.

doc-distribution-notice = Distribution notice
label-distribution-date = Distribution date
label-return-of-capital = Return of capital
label-preferred-return = Preferred return
label-profit-share = Profit share (catch-up and carried interest split)
label-total-distributed = Total distributed to you
doc-distribution-basis = The distribution was allocated through the fund's waterfall; it is paid to the account on record for your commitment.

doc-statement = Capital account statement
doc-statement-period = Period ended { $date }
col-quarter-to-date = Quarter to date
col-year-to-date = Year to date
col-inception-to-date = Inception to date
label-period-from = From
label-opening = Beginning balance
label-contributions = Contributions
label-distributions-capital = Distributions: return of capital
label-distributions-pref = Distributions: preferred return
label-distributions-profit = Distributions: profit share
label-gains-losses = Allocated gains and losses
label-write-downs = of which write-downs
label-closing = Ending balance
doc-statement-basis = Balances are the investor's share of the fund's net assets by hypothetical liquidation through the fund's waterfall. Columns follow the order of the ILPA reporting template.

doc-award-letter = Award letter: subsidised GPU-hours
doc-award-opening = We are pleased to inform { $name } that its application under the call “{ $call }” has been granted as follows.
label-award = Award
label-beneficiary = Beneficiary
label-facility = AI facility
label-period-of-use = Period of use
label-period-range = { $from } to { $to }
label-gpu-hours-awarded = GPU-hours awarded
label-price-per-gpu-hour = List price per GPU-hour
label-aid-intensity = Aid intensity
label-aid-value = Aid value
label-legal-basis = Legal basis
label-aid-basis = Type of aid
label-sa-number = State aid measure
label-sme-category = SME category
label-granting-authority = Granting authority
legal-basis-de-minimis = Commission Regulation (EU) 2023/2831 on de minimis aid
legal-basis-gber = Commission Regulation (EU) No 651/2014 (General Block Exemption Regulation), Article 25
doc-award-de-minimis = This aid is de minimis aid. Keep this letter: you must declare this aid whenever you apply for de minimis aid during the next three years.
doc-award-gber = This aid is exempted under Article 25 of the General Block Exemption Regulation. Awards above EUR 100,000 are published in the Commission's Transparency Award Module.
doc-award-use = The hours are to be used at the facility within the period of use; hours not used by its end lapse and return to the programme.

doc-facility-statement = Quarterly usage and payable statement
doc-facility-quarter = Quarter { $quarter } ({ $from } to { $to })
col-award = Award
col-beneficiary = Beneficiary
col-records = Records
col-gpu-hours = GPU-hours
col-subsidy = Subsidy payable
label-payable = Payable to the facility for the quarter
label-capacity = Capacity in the quarter
label-used = GPU-hours used
doc-facility-basis = Usage records count in the quarter in which their period starts. The subsidy of each record is the aid value of its hours (hours × list price × aid intensity), to the cent, as posted to the ledger.
doc-facility-none = No usage was recorded for this quarter.

# E-mail-ready texts that send a document.
email-greeting = Dear { $name },
email-call-notice-subject = { $fund }: capital call no. { $number }
email-call-notice-body = { $fund } calls { $amount } from your commitment to { $tranche } (capital call no. { $number }), due on { $due }.
email-notice-attached = The call notice is attached as a PDF.
email-award-subject = Your award under { $call }
email-award-body = Under { $call } you are awarded { $hours } subsidised GPU-hours at { $facility }, to be used from { $from } to { $to }; the aid is worth { $aid }.
email-letter-attached = The award letter, with the legal basis of the aid, is attached as a PDF.
email-signature = Kind regards,
    { $fund }
