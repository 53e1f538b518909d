//! Documents people file and send, as PDF: capital-call and distribution notices,
//! capital-account statements, SME award letters and facility statements.
//!
//! A document is data ([`Document`]: letterhead, title, blocks of facts, tables and text),
//! built in the reader's language by [`content`] from the same records the JSON API answers,
//! and laid out by one Typst template (`templates/pdf/document.typ`) with fonts compiled into
//! the binary. Why Typst: docs/documents.md.

pub mod content;

use std::sync::OnceLock;

use serde::Serialize;
use typst::foundations::{Dict, IntoValue};
use typst_as_lib::{TypstEngine, TypstTemplateMainFile};
use typst_layout::PagedDocument;

use crate::i18n::Lang;

static TEMPLATE: &str = include_str!("../../templates/pdf/document.typ");

/// A document, every text in its reader's language and every figure formatted.
#[derive(Clone, Debug, Serialize)]
pub struct Document {
    pub lang: &'static str,
    pub letterhead: Letterhead,
    /// "Issued on 26 November 2026".
    pub issued: String,
    pub title: String,
    pub subtitle: Option<String>,
    pub blocks: Vec<Block>,
    /// Left of the page number on every page.
    pub footer: String,
    pub page_label: String,
}

/// The fund's name and identity lines at the top of the first page.
#[derive(Clone, Debug, Serialize)]
pub struct Letterhead {
    pub name: String,
    pub lines: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Block {
    /// Label and value lines.
    Facts {
        title: Option<String>,
        rows: Vec<Fact>,
    },
    /// Columns with a header; `numeric` columns are set right.
    Table {
        title: Option<String>,
        columns: Vec<String>,
        numeric: Vec<bool>,
        rows: Vec<Row>,
    },
    Text {
        title: Option<String>,
        text: String,
    },
}

#[derive(Clone, Debug, Serialize)]
pub struct Fact {
    pub label: String,
    pub value: String,
    pub strong: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub cells: Vec<String>,
    pub strong: bool,
}

impl Document {
    pub fn new(lang: Lang, letterhead: Letterhead, issued: String, title: String) -> Document {
        Document {
            lang: lang.tag(),
            letterhead,
            issued,
            title,
            subtitle: None,
            blocks: Vec::new(),
            footer: lang.t("doc-figures"),
            page_label: lang.t("doc-page"),
        }
    }
}

impl Fact {
    pub fn new(label: String, value: String) -> Fact {
        Fact { label, value, strong: false }
    }

    pub fn strong(label: String, value: String) -> Fact {
        Fact { label, value, strong: true }
    }
}

/// Why a document could not be laid out: a defect of the template, never of the reader's data
/// (every text reaches the template as a string, never as markup).
#[derive(Debug, thiserror::Error)]
#[error("document layout failed: {0}")]
pub struct LayoutError(String);

fn engine() -> &'static TypstEngine<TypstTemplateMainFile> {
    static ENGINE: OnceLock<TypstEngine<TypstTemplateMainFile>> = OnceLock::new();
    ENGINE.get_or_init(|| TypstEngine::builder().main_file(TEMPLATE).fonts(typst_assets::fonts()).build())
}

/// Lays a document out as PDF (tagged, so its text extracts in reading order).
pub fn pdf(document: &Document) -> Result<Vec<u8>, LayoutError> {
    let json = serde_json::to_string(document).map_err(|e| LayoutError(e.to_string()))?;
    let mut inputs = Dict::new();
    inputs.insert("document".into(), json.into_value());
    let paged: PagedDocument = engine().compile_with_input(inputs).output.map_err(|e| LayoutError(format!("{e:?}")))?;
    typst_pdf::pdf(&paged, &typst_pdf::PdfOptions::default()).map_err(|e| LayoutError(format!("{e:?}")))
}
