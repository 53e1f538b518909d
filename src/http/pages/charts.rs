//! Charts drawn on the server as SVG: stacked horizontal bars (capital stack, capacity by
//! quarter) and a time series of flows with a level line (cash flows and NAV). Geometry is
//! integer arithmetic on the amounts themselves (cents or thousandths of an hour), so no
//! amount passes through a float on its way to a pixel. Every chart sits next to a table
//! with the same numbers.

use askama::Template;
use chrono::{Datelike, Months, NaiveDate};

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

/// A part that is not zero is drawn at least this wide, so a small share still shows.
const PART_MIN_PX: i64 = 4;

/// The widths of a bar's parts that together span `bar_px`: each in proportion to its value,
/// except that a part above zero is at least [`PART_MIN_PX`] wide (as far as the bar allows),
/// the difference taken from the widest part. The tooltip and the table keep the exact figures.
fn part_widths(values: &[i64], bar_px: i64) -> Vec<i64> {
    let total = values.iter().map(|v| (*v).max(0)).sum::<i64>();
    let mut cumulative = 0i64;
    let mut widths: Vec<i64> = values
        .iter()
        .map(|value| {
            let x0 = scale(cumulative, bar_px, total);
            cumulative = cumulative.saturating_add((*value).max(0));
            scale(cumulative, bar_px, total) - x0
        })
        .collect();
    for index in 0..widths.len() {
        let shown = values.get(index).is_some_and(|v| *v > 0);
        let missing = PART_MIN_PX - widths[index];
        if !shown || missing <= 0 {
            continue;
        }
        let widest = (0..widths.len()).max_by_key(|i| widths[*i]).unwrap_or(index);
        let spare = (widths[widest] - PART_MIN_PX).max(0).min(missing);
        if widest != index && spare > 0 {
            widths[widest] -= spare;
            widths[index] += spare;
        }
    }
    widths
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
        let total = row.values.iter().map(|v| (*v).max(0)).sum::<i64>();
        let mut x = LABEL_PX;
        for (part, width) in part_widths(&row.values, scale(total, BAR_AREA_PX, longest)).into_iter().enumerate() {
            if width > 0 {
                let label = series.get(part).map_or("", |s| s.label.as_str());
                let value = row.values.get(part).copied().unwrap_or(0).max(0);
                rects.push(Rect {
                    x,
                    y,
                    width,
                    height: BAR_PX,
                    class: format!("s{part}"),
                    title: format!("{}: {label} {}", row.label, describe(value)),
                });
            }
            x += width;
        }
        let end = x;
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
    pub date: NaiveDate,
    pub flow: i64,
    pub level: i64,
}

const SERIES_HEIGHT_PX: i64 = 240;
const SERIES_LEFT_PX: i64 = 140;
const SERIES_TOP_PX: i64 = 12;
const SERIES_RIGHT_PX: i64 = 30;
/// Bars are this wide at most, however few the points, so a date reads as a moment.
const FLOW_BAR_MAX_PX: i64 = 12;
/// Labels on the time axis at most; ticks beyond are thinned evenly.
const TIME_TICKS_MAX: usize = 8;
/// Calendar boundaries a time axis looks at before thinning: a thousand years of years, or 83
/// years of months (a chart holds at most [`CHART_POINTS_MAX`] points, so far less in practice).
const TIME_TICKS_SCANNED_MAX: usize = 1_000;
const TICK_PX: i64 = 5;

/// How far apart the time axis's labelled ticks are.
#[derive(Clone, Copy, Debug, PartialEq)]
enum TickStep {
    Month,
    Quarter,
    Year,
}

impl TickStep {
    /// Months for spans up to 8 months, quarters up to 3 years, years beyond.
    fn for_span(days: i64) -> TickStep {
        match days {
            ..=243 => TickStep::Month,
            244..=1096 => TickStep::Quarter,
            _ => TickStep::Year,
        }
    }

    fn months(self) -> u32 {
        match self {
            TickStep::Month => 1,
            TickStep::Quarter => 3,
            TickStep::Year => 12,
        }
    }

    /// The first tick on or after `date`: the first day of a month, quarter or year.
    fn first_on_or_after(self, date: NaiveDate) -> NaiveDate {
        let step = self.months();
        let month0 = date.month0() / step * step;
        let start = NaiveDate::from_ymd_opt(date.year(), month0 + 1, 1).unwrap_or(date);
        if start == date {
            start
        } else {
            start.checked_add_months(Months::new(step)).unwrap_or(date)
        }
    }

    fn label(self, date: NaiveDate) -> String {
        match self {
            TickStep::Year => date.year().to_string(),
            TickStep::Month | TickStep::Quarter => date.format("%Y-%m").to_string(),
        }
    }
}

/// The labelled ticks between `first` and `last` (both included), evenly thinned to at most
/// [`TIME_TICKS_MAX`].
fn time_ticks(first: NaiveDate, last: NaiveDate) -> Vec<(NaiveDate, String)> {
    let step = TickStep::for_span((last - first).num_days());
    let mut ticks = Vec::new();
    let mut tick = step.first_on_or_after(first);
    while tick <= last && ticks.len() < TIME_TICKS_SCANNED_MAX {
        ticks.push((tick, step.label(tick)));
        match tick.checked_add_months(Months::new(step.months())) {
            Some(next) => tick = next,
            None => break,
        }
    }
    let every = ticks.len().div_ceil(TIME_TICKS_MAX).max(1);
    ticks.into_iter().step_by(every).collect()
}

/// Flows (in: positive, out: negative) as bars and a running level as a line, on one axis
/// of amounts and a true time axis: a point's distance from the first is its distance in days.
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
    let plot_width = WIDTH_PX - SERIES_LEFT_PX - SERIES_RIGHT_PX;
    let y_of = |value: i64| SERIES_TOP_PX + scale(top.saturating_sub(value), SERIES_HEIGHT_PX, range);
    let zero = y_of(0);
    let count = i64::try_from(points.len()).unwrap_or(1).max(1);
    let bar_width = (plot_width / count / 2).clamp(2, FLOW_BAR_MAX_PX);
    let (first, last) = match (points.first(), points.last()) {
        (Some(first), Some(last)) => (first.date, last.date),
        _ => (NaiveDate::default(), NaiveDate::default()),
    };
    let span_days = (last - first).num_days().max(1);
    // The centre of a date's bar: the first date at the left edge, the last at the right.
    let x_of = |date: NaiveDate| {
        SERIES_LEFT_PX + bar_width / 2 + scale((date - first).num_days(), plot_width - bar_width, span_days)
    };
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
    for point in points {
        let centre = x_of(point.date);
        let y = y_of(point.flow);
        let (top_y, height) = if point.flow >= 0 { (y, zero - y) } else { (zero, y - zero) };
        if height > 0 {
            rects.push(Rect {
                x: centre - bar_width / 2,
                y: top_y,
                width: bar_width,
                height,
                class: if point.flow >= 0 { "s0".into() } else { "s1".into() },
                title: format!("{}: {}", lang.value(&point.date.to_string()), describe(point.flow)),
            });
        }
        line.push(format!("{centre},{}", y_of(point.level)));
    }
    let plot_bottom = SERIES_TOP_PX + SERIES_HEIGHT_PX;
    let axis_y = plot_bottom + TICK_PX + 16;
    let mut lines = vec![(SERIES_LEFT_PX, zero, SERIES_LEFT_PX + plot_width, zero)];
    if !points.is_empty() {
        for (date, label) in time_ticks(first, last) {
            let x = x_of(date);
            lines.push((x, plot_bottom, x, plot_bottom + TICK_PX));
            texts.push(Text { x, y: axis_y, anchor: "middle", text: label });
        }
    }
    let legend_y = axis_y + 14;
    let legend_series = series(&labels);
    let mut legend_items = legend(&legend_series);
    if let Some(level) = legend_items.get_mut(2) {
        level.class = "level-key".into();
    }
    // A series named "" has no key: flows that only go one way.
    legend_items.retain(|item| !item.label.is_empty());
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
        lines,
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
    fn a_small_part_still_shows_and_the_bar_keeps_its_length() {
        // 100 of 100,000 hours used over 330 px: 0.33 px in proportion, drawn 4 px wide.
        let widths = part_widths(&[100, 7_900, 92_000], 330);
        assert_eq!(widths, [4, 26, 300]);
        assert_eq!(widths.iter().sum::<i64>(), 330);
        assert_eq!(part_widths(&[0, 0, 100], 330), [0, 0, 330], "a zero part stays invisible");
        assert_eq!(part_widths(&[1, 1], 2), [1, 1], "never more than the bar holds");
        assert_eq!(part_widths(&[300, 100], 400), [300, 100], "large parts are exact");
    }

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn flows_below_zero_are_drawn_down_from_the_axis() {
        let points = vec![
            TimePoint { date: day("2025-01-01"), flow: -100, level: 100 },
            TimePoint { date: day("2025-06-30"), flow: 50, level: 80 },
        ];
        let chart = flows_and_level("f", "Flows", "desc", ["In", "Out", "NAV"], &points, eur);
        assert!(chart.svg.contains("class=\"s1\""));
        assert!(chart.svg.contains("class=\"s0\""));
        assert!(chart.svg.contains("<polyline"));
        assert!(chart.svg.contains("2025-06"));
    }

    /// The x of each point, read back from the polyline.
    fn line_xs(svg: &str) -> Vec<i64> {
        let points = svg.split("points=\"").nth(1).unwrap().split('"').next().unwrap();
        points.split(' ').map(|p| p.split(',').next().unwrap().parse().unwrap()).collect()
    }

    #[test]
    fn dates_are_placed_by_their_distance_in_days() {
        // 1 Jan, 2 Jan and 31 Dec 2025: the second point sits one 364th of the way along,
        // not half way as evenly spaced points would.
        let points = [("2025-01-01", 10), ("2025-01-02", 20), ("2025-12-31", 30)].map(|(date, level)| TimePoint {
            date: day(date),
            flow: 0,
            level,
        });
        let chart = flows_and_level("f", "Flows", "desc", ["In", "Out", "NAV"], &points, eur);
        let xs = line_xs(&chart.svg);
        let usable = WIDTH_PX - SERIES_LEFT_PX - SERIES_RIGHT_PX - FLOW_BAR_MAX_PX;
        assert_eq!(xs[1] - xs[0], usable / 364, "{xs:?}");
        assert_eq!(xs[2] - xs[0], usable, "{xs:?}");
    }

    #[test]
    fn the_time_axis_is_labelled_at_calendar_boundaries() {
        let labels = |from: &str, to: &str| -> Vec<String> {
            time_ticks(day(from), day(to)).into_iter().map(|(_, label)| label).collect()
        };
        assert_eq!(labels("2026-01-15", "2026-04-02"), ["2026-02", "2026-03", "2026-04"]);
        assert_eq!(labels("2025-11-30", "2026-12-31"), ["2026-01", "2026-04", "2026-07", "2026-10"]);
        assert_eq!(labels("2020-01-01", "2025-06-30"), ["2020", "2021", "2022", "2023", "2024", "2025"]);
        // Sixteen years thin to every second year: never more than eight labels.
        let long = labels("2010-03-01", "2026-03-01");
        assert_eq!(long.first().map(String::as_str), Some("2011"));
        assert!(long.len() <= TIME_TICKS_MAX, "{long:?}");
        assert!(labels("2026-01-01", "2026-01-01").len() == 1);
    }
}
