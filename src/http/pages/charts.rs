//! Charts drawn on the server as SVG: stacked horizontal bars (capital stack, capacity by
//! quarter) and a time series of flows with a level line (cash flows and NAV). Geometry is
//! integer arithmetic on the amounts themselves (cents or thousandths of an hour), so no
//! amount passes through a float on its way to a pixel. Every chart sits next to a table
//! with the same numbers.

use askama::Template;

use crate::i18n::Lang;

/// A rendered chart: the SVG markup, escaped by its template, ready to inline.
pub struct Chart {
    pub svg: String,
}

/// One coloured part of a bar, named in the legend.
pub struct Series {
    pub label: String,
}

pub fn series(labels: &[&str]) -> Vec<Series> {
    let lang = Lang::current();
    labels.iter().map(|label| Series { label: lang.label(label) }).collect()
}

/// A bar: one non-negative value per series, drawn end to end.
pub struct BarRow {
    pub label: String,
    pub values: Vec<i64>,
    /// What is written after the bar, e.g. the total.
    pub note: String,
}

const WIDTH_PX: i64 = 720;
const LABEL_PX: i64 = 190;
const NOTE_PX: i64 = 170;
const BAR_AREA_PX: i64 = WIDTH_PX - LABEL_PX - NOTE_PX;
const ROW_PX: i64 = 30;
const BAR_PX: i64 = 20;
const LEGEND_PX: i64 = 30;
/// Bars and points beyond these are not drawn (the table next to the chart has them all).
pub const CHART_ROWS_MAX: usize = 40;
pub const CHART_POINTS_MAX: usize = 120;

struct Rect {
    x: i64,
    y: i64,
    width: i64,
    height: i64,
    class: String,
    title: String,
}

struct Text {
    x: i64,
    y: i64,
    anchor: &'static str,
    text: String,
}

struct LegendItem {
    x: i64,
    class: String,
    label: String,
}

#[derive(Template)]
#[template(path = "charts/chart.svg")]
struct Svg<'a> {
    title: &'a str,
    description: &'a str,
    id: &'a str,
    width: i64,
    height: i64,
    rects: Vec<Rect>,
    texts: Vec<Text>,
    legend: Vec<LegendItem>,
    legend_y: i64,
    /// Polyline points `x,y x,y`, for a level line.
    line: String,
    line_label: String,
    lines: Vec<(i64, i64, i64, i64)>,
}

/// `value * span / whole`, rounded down, in 128 bits; 0 when `whole` is 0.
fn scale(value: i64, span: i64, whole: i64) -> i64 {
    if whole <= 0 {
        return 0;
    }
    let scaled = i128::from(value) * i128::from(span) / i128::from(whole);
    i64::try_from(scaled).unwrap_or(if scaled < 0 { i64::MIN } else { i64::MAX })
}

fn legend(series: &[Series]) -> Vec<LegendItem> {
    let mut x = 0;
    series
        .iter()
        .enumerate()
        .map(|(index, s)| {
            let item = LegendItem { x, class: format!("s{index}"), label: s.label.clone() };
            x += 30 + 8 * i64::try_from(s.label.chars().count()).unwrap_or(20);
            item
        })
        .collect()
}

/// Horizontal stacked bars on one scale: the longest bar spans the bar area.
pub fn stacked_bars(
    id: &str,
    title: &str,
    description: &str,
    series: &[Series],
    rows: &[BarRow],
    describe: impl Fn(i64) -> String,
) -> Chart {
    let lang = Lang::current();
    let (title, description) = (&lang.label(title), &lang.label(description));
    let describe = |value: i64| lang.value(&describe(value));
    let rows = &rows[..rows.len().min(CHART_ROWS_MAX)];
    let longest = rows.iter().map(|row| row.values.iter().map(|v| (*v).max(0)).sum::<i64>()).max().unwrap_or(0);
    let mut rects = Vec::new();
    let mut texts = Vec::new();
    for (index, row) in rows.iter().enumerate() {
        let y = i64::try_from(index).unwrap_or(0) * ROW_PX;
        texts.push(Text { x: LABEL_PX - 8, y: y + BAR_PX - 5, anchor: "end", text: row.label.clone() });
        let mut cumulative = 0i64;
        for (part, value) in row.values.iter().enumerate() {
            let value = (*value).max(0);
            let x0 = scale(cumulative, BAR_AREA_PX, longest);
            cumulative = cumulative.saturating_add(value);
            let x1 = scale(cumulative, BAR_AREA_PX, longest);
            if x1 > x0 {
                let label = series.get(part).map_or("", |s| s.label.as_str());
                rects.push(Rect {
                    x: LABEL_PX + x0,
                    y,
                    width: x1 - x0,
                    height: BAR_PX,
                    class: format!("s{part}"),
                    title: format!("{}: {label} {}", row.label, describe(value)),
                });
            }
        }
        let end = LABEL_PX + scale(cumulative, BAR_AREA_PX, longest);
        texts.push(Text { x: end + 6, y: y + BAR_PX - 5, anchor: "start", text: lang.value(&row.note) });
    }
    let legend_y = i64::try_from(rows.len()).unwrap_or(0) * ROW_PX + 10;
    render(Svg {
        title,
        description,
        id,
        width: WIDTH_PX,
        height: legend_y + LEGEND_PX,
        rects,
        texts,
        legend: legend(series),
        legend_y,
        line: String::new(),
        line_label: String::new(),
        lines: Vec::new(),
    })
}

/// A point in time: signed flows drawn as bars from zero, and a level drawn as a line.
pub struct TimePoint {
    pub label: String,
    pub flow: i64,
    pub level: i64,
}

const SERIES_HEIGHT_PX: i64 = 240;
const SERIES_LEFT_PX: i64 = 140;
const SERIES_TOP_PX: i64 = 12;

/// Flows (in: positive, out: negative) as bars and a running level as a line, on one axis.
pub fn flows_and_level(
    id: &str,
    title: &str,
    description: &str,
    labels: [&str; 3],
    points: &[TimePoint],
    describe: impl Fn(i64) -> String,
) -> Chart {
    let lang = Lang::current();
    let (title, description) = (&lang.label(title), &lang.label(description));
    let describe = |value: i64| lang.value(&describe(value));
    let points = &points[points.len().saturating_sub(CHART_POINTS_MAX)..];
    let top = points.iter().flat_map(|p| [p.flow, p.level]).max().unwrap_or(0).max(0);
    let bottom = points.iter().flat_map(|p| [p.flow, p.level]).min().unwrap_or(0).min(0);
    let range = top.saturating_sub(bottom).max(1);
    let plot_width = WIDTH_PX - SERIES_LEFT_PX - 20;
    let y_of = |value: i64| SERIES_TOP_PX + scale(top.saturating_sub(value), SERIES_HEIGHT_PX, range);
    let zero = y_of(0);
    let count = i64::try_from(points.len()).unwrap_or(1).max(1);
    let step = plot_width / count;
    let bar_width = (step * 2 / 3).max(2);
    let mut rects = Vec::new();
    let mut texts = vec![
        Text { x: SERIES_LEFT_PX - 8, y: SERIES_TOP_PX + 10, anchor: "end", text: describe(top) },
        Text { x: SERIES_LEFT_PX - 8, y: zero + 4, anchor: "end", text: describe(0) },
    ];
    if bottom < 0 {
        texts.push(Text {
            x: SERIES_LEFT_PX - 8,
            y: SERIES_TOP_PX + SERIES_HEIGHT_PX,
            anchor: "end",
            text: describe(bottom),
        });
    }
    let mut line = Vec::new();
    for (index, point) in points.iter().enumerate() {
        let x = SERIES_LEFT_PX + i64::try_from(index).unwrap_or(0) * step + (step - bar_width) / 2;
        let y = y_of(point.flow);
        let (top_y, height) = if point.flow >= 0 { (y, zero - y) } else { (zero, y - zero) };
        if height > 0 {
            rects.push(Rect {
                x,
                y: top_y,
                width: bar_width,
                height,
                class: if point.flow >= 0 { "s0".into() } else { "s1".into() },
                title: format!("{}: {}", lang.value(&point.label), describe(point.flow)),
            });
        }
        line.push(format!("{},{}", x + bar_width / 2, y_of(point.level)));
    }
    let axis_y = SERIES_TOP_PX + SERIES_HEIGHT_PX + 18;
    if let (Some(first), Some(last)) = (points.first(), points.last()) {
        texts.push(Text { x: SERIES_LEFT_PX, y: axis_y, anchor: "start", text: lang.value(&first.label) });
        texts.push(Text { x: SERIES_LEFT_PX + plot_width, y: axis_y, anchor: "end", text: lang.value(&last.label) });
    }
    let legend_y = axis_y + 14;
    let legend_series = series(&labels);
    let mut legend_items = legend(&legend_series);
    if let Some(level) = legend_items.get_mut(2) {
        level.class = "level-key".into();
    }
    render(Svg {
        title,
        description,
        id,
        width: WIDTH_PX,
        height: legend_y + LEGEND_PX,
        rects,
        texts,
        legend: legend_items,
        legend_y,
        line: line.join(" "),
        line_label: lang.label(labels[2]),
        lines: vec![(SERIES_LEFT_PX, zero, SERIES_LEFT_PX + plot_width, zero)],
    })
}

fn render(svg: Svg<'_>) -> Chart {
    // The template has no fallible parts; a failure would be a template bug, shown as text.
    let markup = svg.render().unwrap_or_else(|e| format!("<p>chart unavailable: {e}</p>"));
    Chart { svg: markup }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eur(v: i64) -> String {
        format!("{v}")
    }

    #[test]
    fn scaling_is_exact_integer_arithmetic() {
        assert_eq!(scale(5_000_000_000_000 * 100, 360, 20_000_000_000_000 * 100), 90);
        assert_eq!(scale(1, 360, 0), 0);
        assert_eq!(scale(i64::MAX, 360, i64::MAX), 360);
    }

    #[test]
    fn longest_bar_fills_the_area_and_parts_are_proportional() {
        let rows = vec![
            BarRow { label: "Senior".into(), values: vec![300, 100], note: "400".into() },
            BarRow { label: "First loss".into(), values: vec![200, 0], note: "200".into() },
        ];
        let chart = stacked_bars("c", "Stack", "desc", &series(&["Paid", "Unfunded"]), &rows, eur);
        assert!(chart.svg.contains(&format!("width=\"{}\"", BAR_AREA_PX * 3 / 4)));
        assert!(chart.svg.contains(&format!("width=\"{}\"", BAR_AREA_PX / 4)));
        assert!(chart.svg.contains(&format!("width=\"{}\"", BAR_AREA_PX / 2)));
        assert!(chart.svg.contains("<title id=\"c-title\">Stack</title>"));
        assert!(chart.svg.contains("role=\"img\""));
    }

    #[test]
    fn labels_are_escaped() {
        let rows = vec![BarRow { label: "<script>".into(), values: vec![1], note: "&".into() }];
        let chart = stacked_bars("c", "T", "D", &series(&["A"]), &rows, eur);
        assert!(!chart.svg.contains("<script>"));
        assert!(chart.svg.contains("&#60;script&#62;") || chart.svg.contains("&lt;script&gt;"), "{}", chart.svg);
    }

    #[test]
    fn flows_below_zero_are_drawn_down_from_the_axis() {
        let points = vec![
            TimePoint { label: "2025-01-01".into(), flow: -100, level: 100 },
            TimePoint { label: "2025-06-30".into(), flow: 50, level: 80 },
        ];
        let chart = flows_and_level("f", "Flows", "desc", ["In", "Out", "NAV"], &points, eur);
        assert!(chart.svg.contains("class=\"s1\""));
        assert!(chart.svg.contains("class=\"s0\""));
        assert!(chart.svg.contains("<polyline"));
        assert!(chart.svg.contains("2025-06-30"));
    }
}
