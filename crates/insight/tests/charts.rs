//! The charts are SVG that parses, with their labels and units, one bar per ranked row, one
//! cell per weekday and hour, one dot per month and line; and CJK names stay text.

use memberledger_insight::report::{self, RankBy};
use memberledger_insight::{chart, Projections};
use memberledger_testkit::Given;

/// M1 at S1: recharged, a 按摩 (massage) from E1 and a facial from E2; M2: a facial from
/// E2 a month later.
fn chain() -> Projections {
    let given = Given::ledger()
        .member("M1")
        .and(r#"{"type":"recharge","amount":"1000.00","staff":"E1"}"#)
        .and(r#"{"type":"consume","amount":"100.00","service":"按摩","staff":"E1"}"#)
        .and(r#"{"type":"consume","amount":"50.00","service":"facial","staff":"E2"}"#)
        .days_later(31)
        .member("M2")
        .and(r#"{"type":"recharge","amount":"500.00"}"#)
        .and(r#"{"type":"consume","amount":"60.00","service":"facial","staff":"E2"}"#);
    Projections::build(given.ledger_ref(), None).unwrap()
}

/// The texts of an SVG (which must parse) and how many `rect`s have `fill`.
fn parse(svg: &str, fill: &str) -> (Vec<String>, usize) {
    let doc = roxmltree::Document::parse(svg).expect("the SVG parses as XML");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let texts = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or_default().to_owned())
        .collect();
    let rects = doc
        .descendants()
        .filter(|n| n.has_tag_name("rect") && n.attribute("fill") == Some(fill))
        .count();
    assert!(svg.contains("Noto Sans CJK SC"), "a CJK-safe font list");
    (texts, rects)
}

fn has(texts: &[String], s: &str) {
    assert!(texts.iter().any(|t| t.contains(s)), "no {s:?} in {texts:?}");
}

#[test]
fn ranking_charts_have_one_bar_per_row_with_labels_and_units() {
    let p = chain();
    let rates = memberledger_insight::Rates::flat(None, memberledger::domain::Rounding::HalfUp);
    let staff = report::staff(&p, None, None, &rates);
    let (texts, bars) = parse(&chart::staff(&staff, 10).unwrap(), "#4E79A7");
    assert_eq!(bars, staff.rows.len());
    has(&texts, "¥ (yuan)");
    has(&texts, "E1 @ S1");
    let services = report::services(&p);
    let (texts, bars) = parse(&chart::services(&services, 10).unwrap(), "#4E79A7");
    assert_eq!(bars, 2);
    has(&texts, "按摩");
    has(&texts, "visits (count)");
    let members = report::members(&p, 10, RankBy::Spend);
    let (texts, bars) = parse(&chart::members(&members).unwrap(), "#4E79A7");
    assert_eq!(bars, 2);
    has(&texts, "M1");
    has(&texts, "members by spend");
}

#[test]
fn the_heatmap_has_a_cell_per_weekday_and_hour() {
    let services = report::services(&chain());
    let svg = chart::heatmap(&services).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    // The background and 168 cells.
    let rects = doc.descendants().filter(|n| n.has_tag_name("rect")).count();
    assert_eq!(rects, 1 + 7 * 24);
    let (texts, darkest) = parse(&svg, "#08306B");
    assert_eq!(darkest, 1, "one hour holds the most visits");
    has(&texts, "Mon");
    has(&texts, "hour of day (local)");
    has(&texts, "darkest = 2 visits");
}

#[test]
fn the_turnover_series_has_a_dot_per_month_and_line() {
    let t = report::turnover(&chain());
    let svg = chart::turnover(&t).unwrap();
    let doc = roxmltree::Document::parse(&svg).unwrap();
    let dots = doc
        .descendants()
        .filter(|n| n.has_tag_name("circle"))
        .count();
    assert_eq!(dots, 2 * 2, "two months, two lines");
    let (texts, _) = parse(&svg, "#4E79A7");
    has(&texts, "2026-01");
    has(&texts, "2026-02");
    has(&texts, "¥ (yuan)");
    has(&texts, "average held");
}
