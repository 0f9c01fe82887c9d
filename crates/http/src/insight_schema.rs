//! The insight reports' JSON as OpenAPI schemas: Rust types of the same fields as the report
//! structs of `memberledger-insight` serialise (money as decimal strings, ratios as decimal
//! strings or null), described here because those structs carry no schema of their own.
#![allow(dead_code)] // read by the OpenAPI derive only

use serde::Serialize;
use utoipa::ToSchema;

/// What the members ranking is by.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RankBy {
    /// Net cash brought in.
    Ltv,
    /// Spent on services and packages, less refunds.
    Spend,
    /// Services delivered.
    Visits,
}

/// Where a member stands against the churn line.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChurnStatus {
    /// Past the line.
    Churned,
    /// Nearing it.
    AtRisk,
}

/// A member past or nearing the churn line.
#[derive(Serialize, ToSchema)]
pub struct ChurnRow {
    member: String,
    home_store: Option<String>,
    #[schema(format = DateTime)]
    last_visit: Option<String>,
    #[schema(format = DateTime)]
    since: String,
    idle_days: u64,
    status: ChurnStatus,
    balance: String,
    lifetime_spend: String,
}

/// The churn report.
#[derive(Serialize, ToSchema)]
pub struct Churn {
    #[schema(format = DateTime)]
    now: String,
    idle_days: u32,
    warn_days: u32,
    churned: u64,
    at_risk: u64,
    balance: String,
    rows: Vec<ChurnRow>,
}

/// A store's dormant stored value.
#[derive(Serialize, ToSchema)]
pub struct DormantStore {
    store: String,
    members: u64,
    dormant: String,
    held: String,
    share_bp: i64,
}

/// The dormant report.
#[derive(Serialize, ToSchema)]
pub struct Dormant {
    #[schema(format = DateTime)]
    now: String,
    days: u32,
    members: u64,
    dormant: String,
    held: String,
    stores: Vec<DormantStore>,
    longest_idle_days: u64,
}

/// A store's month of stored value.
#[derive(Serialize, ToSchema)]
pub struct TurnoverRow {
    store: String,
    /// `2025-03`.
    month: String,
    opening: String,
    opened: String,
    consumed: String,
    refunded: String,
    breakage: String,
    adjusted_out: String,
    closing: String,
    average: String,
    turnover: Option<String>,
}

/// The turnover report.
#[derive(Serialize, ToSchema)]
pub struct Turnover {
    rows: Vec<TurnoverRow>,
}

/// Commission rates (each a decimal string), optionally by tier.
#[derive(Serialize, ToSchema)]
pub struct CommissionRates {
    recharge: Option<String>,
    package: Option<String>,
    service: Option<String>,
}

/// A policy version's commission section.
#[derive(Serialize, ToSchema)]
pub struct VersionRates {
    version: u32,
    commission: Option<serde_json::Value>,
}

/// A staff member's figures at one store.
#[derive(Serialize, ToSchema)]
pub struct StaffRow {
    staff: Option<String>,
    store: String,
    recharges: u64,
    recharged: String,
    packages: u64,
    package_sales: String,
    package_cash: String,
    services: u64,
    revenue: String,
    service_refunds: String,
    package_refunds: String,
    net_revenue: String,
    commission_recharges: String,
    commission_packages: String,
    commission_services: String,
    commission: String,
}

/// The staff report.
#[derive(Serialize, ToSchema)]
pub struct Staff {
    #[schema(format = Date)]
    from: Option<String>,
    #[schema(format = Date)]
    to: Option<String>,
    rates: Vec<VersionRates>,
    commission: String,
    rows: Vec<StaffRow>,
}

/// A service in the ranking.
#[derive(Serialize, ToSchema)]
pub struct ServiceRow {
    service: String,
    visits: u64,
    revenue: String,
    average: String,
    /// `[weekday (0 = Monday), hour]`.
    peak: Vec<u32>,
}

/// The services report.
#[derive(Serialize, ToSchema)]
pub struct Services {
    utc_offset_hours: i32,
    ranking: Vec<ServiceRow>,
    /// 7 rows (Monday first) of 24 hours.
    heatmap: Vec<Vec<u64>>,
}

/// A member in the ranking.
#[derive(Serialize, ToSchema)]
pub struct MemberRow {
    member: String,
    home_store: Option<String>,
    ltv: String,
    spend: String,
    visits: u64,
    average_ticket: String,
    balance: String,
    #[schema(format = DateTime)]
    first_visit: Option<String>,
    #[schema(format = DateTime)]
    last_visit: Option<String>,
    favourite_service: Option<String>,
    favourite_staff: Option<String>,
}

/// The members report.
#[derive(Serialize, ToSchema)]
pub struct Members {
    by: RankBy,
    rows: Vec<MemberRow>,
}

/// One bonus rule of one policy version, for one cohort.
#[derive(Serialize, ToSchema)]
pub struct CampaignRow {
    policy: u32,
    rule: Option<u32>,
    cohort: u32,
    members: u64,
    recharges: u64,
    cash: String,
    bonus: String,
    consumed: String,
    refunded: String,
    breakage: String,
    adjusted_out: String,
    liability_created: String,
    outstanding: String,
    turnover: Option<String>,
    breakage_rate: Option<String>,
}

/// The campaigns report.
#[derive(Serialize, ToSchema)]
pub struct Campaigns {
    cohorts: u32,
    rows: Vec<CampaignRow>,
}
