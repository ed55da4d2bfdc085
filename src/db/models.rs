//! Rows as read (`Organisation`, `Tender`, …) and as written (`NewOrganisation`, …), one pair
//! per table. Enumerated columns are stored as text; their Rust enums live in `domain`.

use super::schema::*;
use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = organisations)]
pub struct Organisation {
    pub id: i32,
    pub code: String,
    pub name: String,
    pub siret: Option<String>,
    pub kind: String,
    pub buyer_class: String,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = organisations)]
pub struct NewOrganisation<'a> {
    pub code: &'a str,
    pub name: &'a str,
    pub siret: Option<&'a str>,
    pub kind: &'a str,
    pub buyer_class: &'a str,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = suppliers)]
pub struct Supplier {
    pub id: i32,
    pub siret: String,
    pub name: String,
    pub postcode: String,
    pub commune: String,
    pub department_code: String,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub sme: bool,
    pub annual_capacity_cents: i64,
    pub notification_email: String,
    pub opt_in: bool,
    pub digest: String,
    pub provenance: Option<String>,
    pub created_at: NaiveDateTime,
    pub locale: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = suppliers)]
pub struct NewSupplier<'a> {
    pub siret: &'a str,
    pub name: &'a str,
    pub postcode: &'a str,
    pub commune: &'a str,
    pub department_code: &'a str,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub sme: bool,
    pub annual_capacity_cents: i64,
    pub notification_email: &'a str,
    pub opt_in: bool,
    pub provenance: Option<&'a str>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = supplier_cpv)]
pub struct NewSupplierCpv<'a> {
    pub supplier_id: i32,
    pub cpv_prefix: &'a str,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct User {
    pub id: i32,
    pub email: String,
    pub password_hash: String,
    pub display_name: String,
    pub role: String,
    pub organisation_id: Option<i32>,
    pub supplier_id: Option<i32>,
    pub locale: String,
    pub email_verified_at: Option<NaiveDateTime>,
    pub active: bool,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub password_hash: &'a str,
    pub display_name: &'a str,
    pub role: &'a str,
    pub organisation_id: Option<i32>,
    pub supplier_id: Option<i32>,
    pub email_verified_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = needs)]
pub struct Need {
    pub id: i32,
    pub organisation_id: i32,
    pub external_ref: Option<String>,
    pub cpv_code: String,
    pub title: String,
    pub description: String,
    pub quantity_milli: i64,
    pub unit: String,
    pub unit_price_cents: i64,
    pub delivery_postcode: String,
    #[diesel(deserialize_as = super::day::Day)]
    pub window_start: NaiveDate,
    #[diesel(deserialize_as = super::day::Day)]
    pub window_end: NaiveDate,
    pub budget_year: i32,
    pub poolable: bool,
    pub status: String,
    pub provenance: Option<String>,
    pub created_by: Option<i32>,
    pub title_public: bool,
    // (`created_at` and `updated_at` are left out: nothing reads them here, and a timestamp read
    // from SQLite's text is parsed against several formats in turn, a cost on every listed need.)
}

#[derive(Debug, Insertable)]
#[diesel(table_name = needs)]
pub struct NewNeed<'a> {
    pub organisation_id: i32,
    pub external_ref: Option<&'a str>,
    pub cpv_code: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub quantity_milli: i64,
    pub unit: &'a str,
    pub unit_price_cents: i64,
    pub delivery_postcode: &'a str,
    pub window_start: NaiveDate,
    pub window_end: NaiveDate,
    pub budget_year: i32,
    pub poolable: bool,
    pub status: &'a str,
    pub provenance: Option<&'a str>,
    pub created_by: Option<i32>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = tenders)]
pub struct Tender {
    pub id: i32,
    pub reference: String,
    pub title: String,
    pub coordinator_id: i32,
    pub pooling_run_id: Option<i32>,
    pub cpv_family: String,
    pub unit: String,
    pub procedure: String,
    pub status: String,
    pub total_value_cents: i64,
    pub weight_price: Option<i32>,
    pub weight_quality: Option<i32>,
    pub weight_environment: Option<i32>,
    pub max_lots_per_supplier: Option<i32>,
    pub cap_rule: Option<String>,
    pub published_at: Option<NaiveDateTime>,
    pub deadline: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub opened_at: Option<NaiveDateTime>,
    pub opened_by: Option<i32>,
    pub awarded_at: Option<NaiveDateTime>,
    pub standstill_until: Option<NaiveDateTime>,
    /// Urgency declared at publication (answers due four days before the deadline).
    pub urgent: bool,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = tenders)]
pub struct NewTender<'a> {
    pub reference: &'a str,
    pub title: &'a str,
    pub coordinator_id: i32,
    pub pooling_run_id: Option<i32>,
    pub cpv_family: &'a str,
    pub unit: &'a str,
    pub procedure: &'a str,
    pub status: &'a str,
    pub total_value_cents: i64,
    pub weight_price: Option<i32>,
    pub weight_quality: Option<i32>,
    pub weight_environment: Option<i32>,
    pub max_lots_per_supplier: Option<i32>,
    pub cap_rule: Option<&'a str>,
    pub published_at: Option<NaiveDateTime>,
    pub deadline: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = tender_approvals)]
pub struct NewTenderApproval<'a> {
    pub tender_id: i32,
    pub organisation_id: i32,
    pub status: &'a str,
    pub decided_by: Option<i32>,
    pub decided_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = lots)]
pub struct Lot {
    pub id: i32,
    pub tender_id: i32,
    pub number: i32,
    pub title: String,
    pub cpv_code: String,
    pub value_cents: i64,
    pub expected_savings_cents: i64,
    pub local_accessible: bool,
    pub eligible_local_suppliers: i32,
    pub small_lot: bool,
    pub status: String,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = lots)]
pub struct NewLot<'a> {
    pub tender_id: i32,
    pub number: i32,
    pub title: &'a str,
    pub cpv_code: &'a str,
    pub value_cents: i64,
    pub expected_savings_cents: i64,
    pub local_accessible: bool,
    pub eligible_local_suppliers: i32,
    pub small_lot: bool,
    pub status: &'a str,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = lot_needs)]
pub struct NewLotNeed {
    pub lot_id: i32,
    pub need_id: i32,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = bids)]
pub struct NewBid<'a> {
    pub lot_id: i32,
    pub supplier_id: i32,
    pub price_cents: i64,
    pub quality: Option<i32>,
    pub environment: Option<i32>,
    pub technical_memo: &'a str,
    pub environment_data: &'a str,
    pub submitted_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The receipt's number (random, [`crate::services::bids::receipt_number`]).
    pub receipt: &'a str,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = awards)]
pub struct NewAward<'a> {
    pub lot_id: i32,
    pub status: &'a str,
    pub winning_bid_id: Option<i32>,
    pub rule: &'a str,
    pub scores: &'a str,
    pub approved_by: Option<i32>,
    pub approved_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = audit_log)]
pub struct NewAuditEntry<'a> {
    pub actor_user_id: Option<i32>,
    pub actor_label: &'a str,
    pub action: &'a str,
    pub object_type: &'a str,
    pub object_id: &'a str,
    pub before_summary: Option<&'a str>,
    pub after_summary: Option<&'a str>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = pooling_runs)]
pub struct NewPoolingRun<'a> {
    pub started_by: Option<i32>,
    pub budget_year: i32,
    pub status: &'a str,
    pub parameters: &'a str,
    pub input_need_ids: &'a str,
    pub report: Option<&'a str>,
    pub plan: Option<&'a str>,
    pub finished_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user_id: i32,
    pub csrf_token: &'a str,
    pub created_at: NaiveDateTime,
    pub last_seen_at: NaiveDateTime,
    pub ip: Option<&'a str>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = api_tokens)]
pub struct ApiToken {
    pub id: i32,
    pub user_id: i32,
    pub name: String,
    pub token_hash: String,
    pub prefix: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = api_tokens)]
pub struct NewApiToken<'a> {
    pub user_id: i32,
    pub name: &'a str,
    pub token_hash: &'a str,
    pub prefix: &'a str,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = auth_links)]
pub struct NewAuthLink<'a> {
    pub user_id: i32,
    pub purpose: &'a str,
    pub token_hash: &'a str,
    pub expires_at: NaiveDateTime,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = notifications)]
pub struct NewNotification<'a> {
    pub recipient: &'a str,
    pub template: &'a str,
    pub data: &'a str,
    pub idempotency_key: &'a str,
    /// When to send it (the column's default, now, when `None`).
    pub next_attempt_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = notifications)]
pub struct Notification {
    pub id: i32,
    pub recipient: String,
    pub template: String,
    pub data: String,
    pub idempotency_key: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub sent_at: Option<NaiveDateTime>,
}
