//! The content of each document, in the reader's language, from the records the JSON API
//! answers with: the same amounts, formatted, never recomputed.

use chrono::NaiveDate;

use super::{Block, Document, Fact, Letterhead, Row};
use crate::domain::payment::{creditor_reference, BankAccount};
use crate::i18n::format::{amount, date, deduction, hours, percent};
use crate::i18n::Lang;
use crate::storage::awards::Award;
use crate::storage::capital::Notice;
use crate::storage::facility_statement::FacilityStatement;
use crate::storage::funds::Fund;
use crate::storage::grants::GrantCall;
use crate::storage::metrics::Statement;
use crate::storage::waterfall::DistributionNotice;

/// The fund's name and identity: kind, inception and target size.
pub fn letterhead(fund: &Fund, lang: Lang) -> Letterhead {
    let identity = lang.t_with(
        "doc-fund-identity",
        &[
            ("kind", lang.t(&format!("fund-kind-{}", fund.kind))),
            ("inception", date(fund.inception_date, lang)),
            ("target", amount(fund.target_size, lang)),
        ],
    );
    Letterhead { name: fund.name.clone(), lines: vec![identity] }
}

fn document(fund: &Fund, lang: Lang, issued: NaiveDate, title_key: &str) -> Document {
    let issued = lang.t_with("doc-issued-on", &[("date", date(issued, lang))]);
    Document::new(lang, letterhead(fund, lang), issued, lang.t(title_key))
}

fn fact(lang: Lang, key: &str, value: String) -> Fact {
    Fact::new(lang.t(key), value)
}

fn facts(rows: Vec<Fact>) -> Block {
    Block::Facts { title: None, rows }
}

fn text(text: String) -> Block {
    Block::Text { title: None, text }
}

/// The ISO 11649 reference an investor quotes when paying a notice: the call number and the
/// start of the notice's id, so that it is unique per notice and readable on a bank statement.
pub fn payment_reference(notice: &Notice) -> String {
    let id_start: String = notice.id.chars().filter(char::is_ascii_hexdigit).take(12).collect();
    creditor_reference(&format!("C{}{id_start}", notice.call_number))
}

/// A capital-call notice with the ILPA fields and the payment instructions.
pub fn call_notice(lang: Lang, issued: NaiveDate, fund: &Fund, n: &Notice, bank: Option<&BankAccount>) -> Document {
    let mut doc = document(fund, lang, issued, "doc-call-notice");
    let number = lang.t_with("doc-call-notice-number", &[("number", n.call_number.to_string())]);
    doc.subtitle = Some(format!("{number} · {}", n.description));
    doc.blocks.push(facts(vec![
        fact(lang, "label-investor", n.investor_name.clone()),
        fact(lang, "label-tranche", n.tranche_name.clone()),
        fact(lang, "label-call-date", date(n.call_date, lang)),
        fact(lang, "label-due-date", date(n.due_date, lang)),
    ]));
    doc.blocks.push(facts(vec![
        fact(lang, "label-investment", amount(n.investment, lang)),
        fact(lang, "label-fees", amount(n.fees, lang)),
        fact(lang, "label-expenses", amount(n.expenses, lang)),
        Fact::strong(lang.t("label-amount-called"), amount(n.amount, lang)),
        fact(lang, "label-paid", amount(n.paid, lang)),
        fact(lang, "label-outstanding", amount(n.outstanding, lang)),
        fact(lang, "label-cumulative-called", amount(n.cumulative_called, lang)),
        fact(lang, "label-remaining-unfunded", amount(n.remaining_unfunded, lang)),
    ]));
    let title = Some(lang.t("doc-payment-instructions"));
    match bank {
        Some(bank) => {
            let mut rows = vec![
                fact(lang, "label-account-holder", bank.account_holder.clone()),
                fact(lang, "label-iban", bank.iban_printed()),
            ];
            rows.extend(bank.bic.clone().map(|bic| fact(lang, "label-bic", bic)));
            rows.push(fact(lang, "label-payment-reference", payment_reference(n)));
            rows.push(Fact::strong(lang.t("label-amount-to-pay"), amount(n.outstanding, lang)));
            doc.blocks.push(Block::Facts { title, rows });
            doc.blocks.push(text(payment_instruction(lang, n)));
        }
        None => doc.blocks.push(Block::Text { title, text: lang.t("doc-no-bank-account") }),
    }
    doc
}

/// What the investor is to do: pay the outstanding amount by the due date, or nothing.
fn payment_instruction(lang: Lang, n: &Notice) -> String {
    if n.outstanding.is_zero() {
        lang.t("doc-paid-in-full")
    } else {
        lang.t_with("doc-pay-by", &[("amount", amount(n.outstanding, lang)), ("date", date(n.due_date, lang))])
    }
}

/// Text ready for an e-mail that sends a document: its subject and plain-text body, in the
/// reader's language, with the same figures as the document.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct EmailText {
    pub lang: Lang,
    pub subject: String,
    pub body: String,
}

impl EmailText {
    fn new(lang: Lang, subject: String, paragraphs: Vec<String>) -> EmailText {
        EmailText { lang, subject, body: paragraphs.join("\n\n") }
    }
}

/// The e-mail that sends a call notice: what is called, by when, and how to pay it.
pub fn call_notice_email(lang: Lang, fund: &Fund, n: &Notice, bank: Option<&BankAccount>) -> EmailText {
    let number = n.call_number.to_string();
    let subject = lang.t_with("email-call-notice-subject", &[("fund", fund.name.clone()), ("number", number.clone())]);
    let mut paragraphs = vec![
        lang.t_with("email-greeting", &[("name", n.investor_name.clone())]),
        lang.t_with(
            "email-call-notice-body",
            &[
                ("fund", fund.name.clone()),
                ("number", number),
                ("tranche", n.tranche_name.clone()),
                ("amount", amount(n.amount, lang)),
                ("due", date(n.due_date, lang)),
            ],
        ),
    ];
    match bank {
        Some(bank) => {
            let mut lines = vec![
                format!("{}: {}", lang.t("label-account-holder"), bank.account_holder),
                format!("{}: {}", lang.t("label-iban"), bank.iban_printed()),
            ];
            lines.extend(bank.bic.as_ref().map(|bic| format!("{}: {bic}", lang.t("label-bic"))));
            lines.push(format!("{}: {}", lang.t("label-payment-reference"), payment_reference(n)));
            lines.push(format!("{}: {}", lang.t("label-amount-to-pay"), amount(n.outstanding, lang)));
            paragraphs.push(lines.join("\n"));
            paragraphs.push(payment_instruction(lang, n));
        }
        None => paragraphs.push(lang.t("doc-no-bank-account")),
    }
    paragraphs.push(lang.t("email-notice-attached"));
    paragraphs.push(lang.t_with("email-signature", &[("fund", fund.name.clone())]));
    EmailText::new(lang, subject, paragraphs)
}

/// The e-mail that sends an SME its award letter: hours, facility, period and aid value.
pub fn award_letter_email(lang: Lang, fund: &Fund, award: &Award, call: &GrantCall, facility_name: &str) -> EmailText {
    let subject = lang.t_with("email-award-subject", &[("call", call.name.clone())]);
    let paragraphs = vec![
        lang.t_with("email-greeting", &[("name", award.legal_name.clone())]),
        lang.t_with(
            "email-award-body",
            &[
                ("call", call.name.clone()),
                ("hours", hours(award.awarded_gpu_hours, lang)),
                ("facility", facility_name.to_string()),
                ("from", date(award.start_date, lang)),
                ("to", date(award.end_date, lang)),
                ("aid", amount(award.aid_value, lang)),
            ],
        ),
        lang.t("email-letter-attached"),
        lang.t_with("email-signature", &[("fund", fund.name.clone())]),
    ];
    EmailText::new(lang, subject, paragraphs)
}

/// An investor's share of one distribution, by waterfall step.
pub fn distribution_notice(lang: Lang, issued: NaiveDate, fund: &Fund, n: &DistributionNotice) -> Document {
    let mut doc = document(fund, lang, issued, "doc-distribution-notice");
    doc.subtitle = Some(n.description.clone());
    doc.blocks.push(facts(vec![
        fact(lang, "label-investor", n.share.investor_name.clone()),
        fact(lang, "label-distribution-date", date(n.date, lang)),
    ]));
    doc.blocks.push(facts(vec![
        fact(lang, "label-return-of-capital", amount(n.share.capital, lang)),
        fact(lang, "label-preferred-return", amount(n.share.pref, lang)),
        fact(lang, "label-profit-share", amount(n.share.profit, lang)),
        Fact::strong(lang.t("label-total-distributed"), amount(n.share.total, lang)),
    ]));
    doc.blocks.push(text(lang.t("doc-distribution-basis")));
    doc
}

/// The three periods of a capital-account statement, in the ILPA template's order: quarter
/// to date, year to date, inception to date, all ending on the same day.
pub struct StatementColumns {
    pub quarter: Statement,
    pub year: Statement,
    pub inception: Statement,
}

/// A capital-account statement with quarter-, year- and inception-to-date columns.
pub fn capital_statement(lang: Lang, issued: NaiveDate, fund: &Fund, s: &StatementColumns) -> Document {
    let mut doc = document(fund, lang, issued, "doc-statement");
    let period = lang.t_with("doc-statement-period", &[("date", date(s.inception.to, lang))]);
    doc.subtitle = Some(format!("{} · {period}", s.inception.investor_name));
    let columns = [&s.quarter, &s.year, &s.inception];
    let line = |key: &str, strong: bool, value: &dyn Fn(&Statement) -> String| {
        let mut cells = vec![lang.t(key)];
        cells.extend(columns.iter().map(|s| value(s)));
        Row { cells, strong }
    };
    let rows = vec![
        line("label-period-from", false, &|s| date(s.from, lang)),
        line("label-opening", false, &|s| amount(s.opening, lang)),
        line("label-contributions", false, &|s| amount(s.contributions, lang)),
        line("label-distributions-capital", false, &|s| deduction(s.distributions_capital, lang)),
        line("label-distributions-pref", false, &|s| deduction(s.distributions_pref, lang)),
        line("label-distributions-profit", false, &|s| deduction(s.distributions_profit, lang)),
        line("label-gains-losses", false, &|s| amount(s.gains_losses, lang)),
        line("label-write-downs", false, &|s| deduction(s.write_downs, lang)),
        line("label-closing", true, &|s| amount(s.closing, lang)),
    ];
    doc.blocks.push(Block::Table {
        title: None,
        columns: vec![
            String::new(),
            lang.t("col-quarter-to-date"),
            lang.t("col-year-to-date"),
            lang.t("col-inception-to-date"),
        ],
        numeric: vec![false, true, true, true],
        rows,
    });
    doc.blocks.push(text(lang.t("doc-statement-basis")));
    doc
}

/// An SME's award letter: hours, facility, period, aid value and the legal basis.
pub fn award_letter(
    lang: Lang,
    issued: NaiveDate,
    fund: &Fund,
    award: &Award,
    call: &GrantCall,
    facility_name: &str,
) -> Document {
    let mut doc = document(fund, lang, issued, "doc-award-letter");
    doc.subtitle = Some(call.name.clone());
    let opening = [("name", award.legal_name.clone()), ("call", call.name.clone())];
    doc.blocks.push(text(lang.t_with("doc-award-opening", &opening)));
    let period = [("from", date(award.start_date, lang)), ("to", date(award.end_date, lang))];
    doc.blocks.push(facts(vec![
        fact(lang, "label-award", award.id.clone()),
        fact(lang, "label-beneficiary", award.legal_name.clone()),
        fact(lang, "label-sme-category", lang.name_of("category", &award.sme_category)),
        fact(lang, "label-facility", facility_name.to_string()),
        fact(lang, "label-period-of-use", lang.t_with("label-period-range", &period)),
        fact(lang, "label-gpu-hours-awarded", hours(award.awarded_gpu_hours, lang)),
        fact(lang, "label-price-per-gpu-hour", amount(award.price_per_gpu_hour, lang)),
        fact(lang, "label-aid-intensity", percent(award.intensity_percent, lang)),
        Fact::strong(lang.t("label-aid-value"), amount(award.aid_value, lang)),
    ]));
    let gber = award.aid_basis.is_gber();
    let mut basis = vec![
        fact(lang, "label-aid-basis", lang.name_of("basis", award.aid_basis.as_str())),
        fact(lang, "label-legal-basis", lang.t(if gber { "legal-basis-gber" } else { "legal-basis-de-minimis" })),
    ];
    basis.extend(call.aid_measure_reference.clone().map(|sa| fact(lang, "label-sa-number", sa)));
    basis.push(fact(lang, "label-granting-authority", call.granting_authority.clone()));
    doc.blocks.push(Block::Facts { title: Some(lang.t("label-legal-basis")), rows: basis });
    doc.blocks.push(text(lang.t(if gber { "doc-award-gber" } else { "doc-award-de-minimis" })));
    doc.blocks.push(text(lang.t("doc-award-use")));
    doc
}

/// A facility's usage and the subsidy payable to it for one quarter, award by award.
pub fn facility_statement(lang: Lang, issued: NaiveDate, fund: &Fund, s: &FacilityStatement) -> Document {
    let mut doc = document(fund, lang, issued, "doc-facility-statement");
    let quarter = [("quarter", s.quarter.clone()), ("from", date(s.from, lang)), ("to", date(s.to, lang))];
    doc.subtitle = Some(format!("{} · {}", s.facility_name, lang.t_with("doc-facility-quarter", &quarter)));
    doc.blocks.push(facts(vec![
        fact(lang, "label-capacity", hours(s.capacity_gpu_hours, lang)),
        fact(lang, "label-used", hours(s.used_gpu_hours, lang)),
        Fact::strong(lang.t("label-payable"), amount(s.payable, lang)),
    ]));
    if s.lines.is_empty() {
        doc.blocks.push(text(lang.t("doc-facility-none")));
    } else {
        let mut rows: Vec<Row> = s
            .lines
            .iter()
            .map(|line| Row {
                cells: vec![
                    line.legal_name.clone(),
                    line.award_id.clone(),
                    line.records.to_string(),
                    hours(line.gpu_hours, lang),
                    amount(line.subsidy, lang),
                ],
                strong: false,
            })
            .collect();
        rows.push(Row {
            cells: vec![
                lang.t("label-total"),
                String::new(),
                s.records.to_string(),
                hours(s.used_gpu_hours, lang),
                amount(s.payable, lang),
            ],
            strong: true,
        });
        doc.blocks.push(Block::Table {
            title: None,
            columns: ["col-beneficiary", "col-award", "col-records", "col-gpu-hours", "col-subsidy"]
                .iter()
                .map(|key| lang.t(key))
                .collect(),
            numeric: vec![false, false, true, true, true],
            rows,
        });
    }
    doc.blocks.push(text(lang.t("doc-facility-basis")));
    doc
}
