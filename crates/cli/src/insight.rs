//! `memberledger report churn|dormant|turnover|staff|services|members|campaigns`: what the
//! ledger tells a chain (memberledger-insight), as tables, `--json` or `--csv`, and charts
//! (`--svg FILE`).

use chrono::NaiveDate;
use memberledger::{Ledger, Timestamp};
use memberledger_insight::report::{self, RankBy};
use memberledger_insight::{chart, Calendar, Projections, Rates};
use serde::Serialize;
use serde_json::Value;

use crate::report::{json_line, parse_time};
use crate::Fail;

/// The insight reports.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Which {
    Churn,
    Dormant,
    Turnover,
    Staff,
    Services,
    Members,
    Campaigns,
}

/// The options of the insight reports (each applies to the reports it names).
#[derive(clap::Args)]
pub(crate) struct InsightArgs {
    /// churn: days away that make a member churned.
    #[arg(long, default_value_t = 90)]
    idle_days: u32,
    /// churn: warn this many days before the line.
    #[arg(long, default_value_t = 30)]
    warn_days: u32,
    /// dormant: days without activity that make a balance dormant.
    #[arg(long, default_value_t = 180)]
    days: u32,
    /// staff: first local day of the period (YYYY-MM-DD, inclusive).
    #[arg(long)]
    from: Option<String>,
    /// staff: last local day of the period (YYYY-MM-DD, inclusive).
    #[arg(long)]
    to: Option<String>,
    /// members: how many to list.
    #[arg(long, default_value_t = 20)]
    top: usize,
    /// members: rank by ltv, spend or visits.
    #[arg(long, default_value = "ltv")]
    by: String,
    /// campaigns: how many cohorts members are split into (`cohort_of`, 1 to 1000).
    #[arg(long, default_value_t = 2)]
    cohorts: u32,
    /// turnover, staff, services, members: also draws the report as an SVG chart into FILE
    /// (the time series, the ranking, or with --heatmap the weekday × hour heatmap).
    #[arg(long, value_name = "FILE")]
    svg: Option<std::path::PathBuf>,
    /// services: --svg draws the weekday × hour heatmap instead of the ranking.
    #[arg(long, requires = "svg")]
    heatmap: bool,
    /// Prints CSV (a header line, then one line per row).
    #[arg(long, conflicts_with = "json")]
    pub(crate) csv: bool,
    /// The chain's local time, in hours east of UTC (8 for China): months, days, weekdays
    /// and hours are local.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true)]
    pub(crate) utc_offset: i32,
}

/// Prints one insight report, of everything or as of a past time.
pub(crate) fn run(
    ledger: &Ledger,
    which: Which,
    as_of: Option<&str>,
    json: bool,
    args: &InsightArgs,
) -> Result<u8, Fail> {
    let as_of = parse_time(as_of)?;
    if args.svg.is_some() && matches!(which, Which::Churn | Which::Dormant | Which::Campaigns) {
        return Err(Fail::usage(
            "--svg draws turnover, staff, services and members; this report is a list",
        ));
    }
    let calendar = Calendar::east_hours(args.utc_offset)
        .ok_or_else(|| Fail::usage("--utc-offset must be -12 to 14 hours".to_owned()))?;
    let mut p = Projections::new(calendar, as_of);
    p.catch_up(ledger)?;
    // "Now" is the as-of time, else the ledger's clock (--now), else the machine's.
    let now = as_of
        .or_else(|| ledger.clock().now())
        .unwrap_or_else(Timestamp::now);
    let format = Format::of(json, args.csv);
    let mut o = String::new();
    match which {
        Which::Churn => {
            let r = report::churn(&p, now, args.idle_days, args.warn_days);
            let title = format!(
                "churn as of {now}: {} churned (≥ {} days away), {} at risk (≥ {} days), holding {}",
                r.churned,
                r.idle_days,
                r.at_risk,
                r.idle_days.saturating_sub(r.warn_days),
                cents(r.balance)
            );
            format.write(&mut o, &title, &r, &r.rows);
        }
        Which::Dormant => {
            let r = report::dormant(&p, now, args.days);
            let title = format!(
                "dormant stored value as of {now} (no activity for {} days): {} of {} held, {} members",
                r.days,
                cents(r.dormant),
                cents(r.held),
                r.members
            );
            format.write(&mut o, &title, &r, &r.stores);
        }
        Which::Turnover => {
            let r = report::turnover(&p);
            draw(args, || chart::turnover(&r))?;
            format.write(
                &mut o,
                "stored-value turnover by store and month",
                &r,
                &r.rows,
            );
        }
        Which::Staff => staff(&mut o, ledger, &p, args, format)?,
        Which::Services => {
            let r = report::services(&p);
            if args.heatmap {
                draw(args, || chart::heatmap(&r))?;
            } else {
                draw(args, || chart::services(&r, args.top))?;
            }
            format.write(&mut o, "services by visits", &r, &r.ranking);
            if format == Format::Table {
                heatmap(&mut o, &r.heatmap, r.utc_offset_hours);
            }
        }
        Which::Members => {
            let by: RankBy = args.by.parse().map_err(Fail::usage)?;
            let r = report::members(&p, args.top, by);
            draw(args, || chart::members(&r))?;
            let title = format!("top {} members by {}", args.top, args.by);
            format.write(&mut o, &title, &r, &r.rows);
        }
        Which::Campaigns => campaigns(&mut o, &p, args, format)?,
    }
    crate::emit(&o)
}

fn campaigns(
    o: &mut String,
    p: &Projections,
    args: &InsightArgs,
    format: Format,
) -> Result<(), Fail> {
    if !(1..=report::COHORTS_MAX).contains(&args.cohorts) {
        return Err(Fail::usage(format!(
            "--cohorts must be 1 to {}",
            report::COHORTS_MAX
        )));
    }
    let r = report::campaigns(p, args.cohorts);
    let title = format!(
        "bonus ladders by policy version, rule and cohort (of {})",
        r.cohorts
    );
    format.write(o, &title, &r, &r.rows);
    Ok(())
}

/// Writes the chart to `--svg FILE`, if asked.
fn draw(
    args: &InsightArgs,
    chart: impl FnOnce() -> Result<String, chart::ChartError>,
) -> Result<(), Fail> {
    let Some(path) = &args.svg else {
        return Ok(());
    };
    let svg = chart().map_err(|e| Fail::usage(e.to_string()))?;
    std::fs::write(path, svg)
        .map_err(|e| Fail::usage(format!("cannot write {}: {e}", path.display())))
}

fn staff(
    o: &mut String,
    ledger: &Ledger,
    p: &Projections,
    args: &InsightArgs,
    format: Format,
) -> Result<(), Fail> {
    let day = |s: &Option<String>| -> Result<Option<NaiveDate>, Fail> {
        s.as_deref()
            .map(|d| {
                NaiveDate::parse_from_str(d, "%Y-%m-%d")
                    .map_err(|e| Fail::usage(format!("{d:?} is not a date like 2025-03-31: {e}")))
            })
            .transpose()
    };
    let (from, to) = (day(&args.from)?, day(&args.to)?);
    let rates = Rates::of_history(&ledger.policy_history());
    let r = report::staff(p, from, to, &rates);
    draw(args, || chart::staff(&r, args.top))?;
    let title = format!(
        "staff {}{}: commission {}{}",
        from.map(|d| format!("from {d} ")).unwrap_or_default(),
        to.map(|d| format!("to {d}")).unwrap_or_default(),
        cents(r.commission),
        if rates.none() {
            " (the policy sets no commission)"
        } else {
            ""
        }
    );
    format.write(o, &title, &r, &r.rows);
    Ok(())
}

fn cents(c: i128) -> String {
    memberledger::domain::format_cents(c)
}

/// How a report is printed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Format {
    Table,
    Json,
    Csv,
}

impl Format {
    fn of(json: bool, csv: bool) -> Format {
        match (json, csv) {
            (true, _) => Format::Json,
            (_, true) => Format::Csv,
            _ => Format::Table,
        }
    }

    /// The whole report as one JSON line, its rows as CSV, or a title and a table.
    fn write<R: Serialize, T: Serialize>(
        self,
        o: &mut String,
        title: &str,
        report: &R,
        rows: &[T],
    ) {
        let rows: Vec<Vec<(String, String)>> = rows.iter().map(cells).collect();
        match self {
            Format::Json => json_line(o, report),
            Format::Csv => csv(o, &rows),
            Format::Table => {
                outln!(o, "{title}");
                table(o, &rows);
            }
        }
    }
}

/// A row's cells, in field order: a nested value is written as its compact JSON.
fn cells<T: Serialize>(row: &T) -> Vec<(String, String)> {
    let json = serde_json::to_string(row).expect("reports serialise");
    let Ok(Ordered(map)) = serde_json::from_str::<Ordered>(&json) else {
        return vec![("value".to_owned(), json)];
    };
    map.into_iter()
        .map(|(k, v)| {
            let text = match v {
                Value::String(s) => s,
                Value::Null => String::new(),
                other => other.to_string(),
            };
            (k, text)
        })
        .collect()
}

/// A JSON object's entries in the order written (a `serde_json::Map` sorts its keys).
struct Ordered(Vec<(String, Value)>);

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Ordered, D::Error> {
        struct Entries;
        impl<'de> serde::de::Visitor<'de> for Entries {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Ordered, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<String, Value>()? {
                    entries.push(entry);
                }
                Ok(Ordered(entries))
            }
        }
        d.deserialize_map(Entries)
    }
}

fn csv(o: &mut String, rows: &[Vec<(String, String)>]) {
    let Some(first) = rows.first() else { return };
    let quote = |s: &str| {
        if s.contains([',', '"', '\n']) {
            format!("\"{}\"", s.replace('"', "\"\""))
        } else {
            s.to_owned()
        }
    };
    let header: Vec<String> = first.iter().map(|(k, _)| quote(k)).collect();
    outln!(o, "{}", header.join(","));
    for row in rows {
        let line: Vec<String> = row.iter().map(|(_, v)| quote(v)).collect();
        outln!(o, "{}", line.join(","));
    }
}

fn table(o: &mut String, rows: &[Vec<(String, String)>]) {
    let Some(first) = rows.first() else {
        outln!(o, "  (none)");
        return;
    };
    let mut widths: Vec<usize> = first.iter().map(|(k, _)| k.chars().count()).collect();
    for row in rows {
        for (w, (_, v)) in widths.iter_mut().zip(row) {
            *w = (*w).max(v.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:>w$}", w = *w))
            .collect();
        format!("  {}", padded.join("  "))
    };
    outln!(
        o,
        "{}",
        line(first.iter().map(|(k, _)| k.as_str()).collect())
    );
    for row in rows {
        outln!(o, "{}", line(row.iter().map(|(_, v)| v.as_str()).collect()));
    }
}

/// The weekday × hour grid of visits.
fn heatmap(o: &mut String, grid: &[[u64; 24]; 7], offset: i32) {
    outln!(o, "visits by weekday and hour (UTC{offset:+})");
    let hours: Vec<String> = (0..24).map(|h| format!("{h:>5}")).collect();
    outln!(o, "  {:<3}{}", "", hours.join(""));
    for (day, name) in ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
        .iter()
        .enumerate()
    {
        let cells: Vec<String> = grid[day].iter().map(|n| format!("{n:>5}")).collect();
        outln!(o, "  {name:<3}{}", cells.join(""));
    }
}

/// The demo's closing lines: the churn and dormant warnings and the top staff, as of `now`
/// (only reads the ledger).
pub(crate) fn demo_digest(ledger: &Ledger, now: Timestamp) -> Result<String, Fail> {
    let p = Projections::build(ledger, None)?;
    let mut o = String::new();
    let churn = report::churn(&p, now, 90, 30);
    outln!(
        o,
        "\nwhat the ledger tells the chain (as of {now}; `report churn|dormant|turnover|staff|services|members`):"
    );
    outln!(
        o,
        "  churn warning (流失预警): {} members away 90+ days, {} more 60+ days, holding {} of stored value",
        churn.churned,
        churn.at_risk,
        cents(churn.balance)
    );
    for r in churn.rows.iter().take(3) {
        outln!(
            o,
            "    {} ({}) {} days away, holds {}, spent {}",
            r.member,
            r.home_store.as_ref().map_or("-", |s| s.as_str()),
            r.idle_days,
            cents(r.balance),
            cents(r.lifetime_spend)
        );
    }
    let dormant = report::dormant(&p, now, 180);
    outln!(
        o,
        "  dormant stored value (no activity 180+ days): {} of {} held, {} members (the longest a holder has gone without activity: {} days)",
        cents(dormant.dormant),
        cents(dormant.held),
        dormant.members,
        dormant.longest_idle_days
    );
    let mut stores = dormant.stores.clone();
    stores.sort_by(|a, b| b.dormant.cmp(&a.dormant).then(a.store.cmp(&b.store)));
    for s in stores.iter().filter(|s| s.dormant > 0).take(3) {
        outln!(
            o,
            "    {} {} dormant of {} ({} members)",
            s.store,
            cents(s.dormant),
            cents(s.held),
            s.members
        );
    }
    let staff = report::staff(&p, None, None, &Rates::of_history(&ledger.policy_history()));
    outln!(o, "  top staff (revenue net of refunds, plus sales):");
    for r in staff.rows.iter().filter(|r| r.staff.is_some()).take(3) {
        outln!(
            o,
            "    {} at {}: {} services, revenue {}, {} recharges {}, {} packages {}, commission {}",
            r.staff.as_ref().map_or("-", |s| s.as_str()),
            r.store,
            r.figures.services,
            cents(r.net_revenue),
            r.figures.recharges,
            cents(r.figures.recharged),
            r.figures.packages,
            cents(r.figures.package_sales),
            cents(r.commission)
        );
    }
    Ok(o)
}
