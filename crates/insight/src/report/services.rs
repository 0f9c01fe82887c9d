//! 项目热度 and 消费时段分布: services ranked, and when they are bought.

use serde::Serialize;

use crate::Projections;

/// One service in the ranking.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServiceRow {
    /// The service (`(unnamed)` for consumptions that named none).
    pub service: String,
    /// Visits.
    pub visits: u64,
    /// Revenue less refunds.
    #[serde(serialize_with = "crate::cents::ser")]
    pub revenue: i128,
    /// Revenue per visit, to the cent (half up).
    #[serde(serialize_with = "crate::cents::ser")]
    pub average: i128,
    /// The local weekday (0 = Monday) and hour with the most visits (the earliest among
    /// equals).
    pub peak: (usize, usize),
}

/// The services report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Services {
    /// The calendar's offset east of UTC, in hours: the heatmap's local time.
    pub utc_offset_hours: i32,
    /// Services by visits, most first (then by revenue, then name).
    pub ranking: Vec<ServiceRow>,
    /// Visits of every service by local weekday (0 = Monday) and hour.
    pub heatmap: [[u64; 24]; 7],
}

/// The ranking and the weekday × hour heatmap of every service.
#[must_use]
pub fn services(p: &Projections) -> Services {
    let mut heatmap = [[0u64; 24]; 7];
    let mut ranking: Vec<ServiceRow> = p
        .services()
        .iter()
        .map(|(name, s)| {
            let mut peak = (0, 0, 0);
            for (d, hours) in s.visits.iter().enumerate() {
                for (h, &n) in hours.iter().enumerate() {
                    heatmap[d][h] += n;
                    if n > peak.2 {
                        peak = (d, h, n);
                    }
                }
            }
            let (visits, revenue) = (s.total_visits(), s.net_revenue());
            let average = crate::cents::div_half_up(revenue, i128::from(visits));
            ServiceRow {
                service: name.clone(),
                visits,
                revenue,
                average,
                peak: (peak.0, peak.1),
            }
        })
        .collect();
    ranking.sort_by(|a, b| {
        (b.visits, b.revenue)
            .cmp(&(a.visits, a.revenue))
            .then_with(|| a.service.cmp(&b.service))
    });
    Services {
        utc_offset_hours: p.calendar().hours_east(),
        ranking,
        heatmap,
    }
}
