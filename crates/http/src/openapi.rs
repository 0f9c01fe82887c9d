//! The OpenAPI 3.1 document, generated from the handlers' annotations and the schema types.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::{books, commands, export, feed, health, members, notices, policy, prepaid, reports};

/// The bearer scheme every `/v1` path but the document itself requires.
struct Bearer;

impl Modify for Bearer {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A token from `memberledger token add --role R`: hq, store:<id>, auditor or member:<id>",
                    ))
                    .build(),
            ),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "memberledger",
        description = "The HTTP adapter of memberledger: commands in, receipts out (the wire format of the CLI). Errors are `{\"code\",\"message\"}` with a status per class. A server hosting several brands (`serve --brands FILE`) serves each brand's ledger under `/brands/{brand}` with the brand's own tokens; the single-ledger paths at the root are a single-ledger server's.",
        license(name = "MIT OR Apache-2.0"),
    ),
    paths(
        commands::post,
        members::view,
        members::statement,
        members::events,
        books::trial_balance,
        books::stores,
        books::settlement,
        books::liability,
        prepaid::report,
        reports::churn,
        reports::dormant,
        reports::turnover,
        reports::staff,
        reports::services,
        reports::members,
        reports::campaigns,
        books::verify,
        export::export,
        feed::events,
        notices::notices,
        policy::show,
        policy::versions,
        policy::publish,
        health::healthz,
        health::readyz,
        health::metrics,
    ),
    components(schemas(crate::schema::ExportFormat)),
    modifiers(&Bearer),
)]
struct ApiDoc;

/// The OpenAPI document, pretty JSON with a final newline: what `/v1/openapi.json` serves
/// and `docs/openapi.json` holds.
pub fn openapi_json() -> String {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    crate::openapi_brands::add(&mut doc);
    let mut text = doc.to_pretty_json().expect("the document serialises");
    text.push('\n');
    text
}
