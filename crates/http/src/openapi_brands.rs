//! The brands' paths of the OpenAPI document: every path of a single-ledger server (but the
//! probes) again under `/brands/{brand}`, with the brand's 403 and 404.

use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn, PathItem};
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, Required, ResponseBuilder};

use crate::brands::{BRAND_NAME_MAX, BRAND_PREFIX};

/// Paths served at the root only.
const ROOT_ONLY: [&str; 2] = ["/healthz", "/readyz"];

/// Adds `/brands/{brand}…` for every path of `doc` but the probes.
pub(crate) fn add(doc: &mut OpenApi) {
    let brand_paths: Vec<(String, PathItem)> = doc
        .paths
        .paths
        .iter()
        .filter(|(p, _)| !ROOT_ONLY.contains(&p.as_str()))
        .map(|(p, item)| (format!("{BRAND_PREFIX}{{brand}}{p}"), branded(item)))
        .collect();
    doc.paths.paths.extend(brand_paths);
}

/// A path item of a brand: the `brand` parameter, and each operation's answers to a brand.
fn branded(item: &PathItem) -> PathItem {
    let mut item = item.clone();
    let brand = ParameterBuilder::new()
        .name("brand")
        .parameter_in(ParameterIn::Path)
        .required(Required::True)
        .description(Some(
            "The brand (`memberledger serve --brands FILE` hosts one ledger per brand)",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .pattern(Some(format!("^[A-Za-z0-9_-]{{1,{BRAND_NAME_MAX}}}$"))),
        ))
        .example(Some("lotus".into()))
        .build();
    item.parameters.get_or_insert_with(Vec::new).push(brand);
    let operations = [
        &mut item.get,
        &mut item.put,
        &mut item.post,
        &mut item.delete,
        &mut item.patch,
    ];
    for op in operations.into_iter().flatten() {
        brand_operation(op);
    }
    item
}

/// A brand's operation: its own id, another brand's token refused (403 `wrong_brand`), an
/// unknown brand not found (404 `brand_not_found`).
fn brand_operation(op: &mut Operation) {
    if let Some(id) = &op.operation_id {
        op.operation_id = Some(format!("brand_{id}"));
    }
    let responses = &mut op.responses.responses;
    for (status, what) in [
        ("403", "another brand's token (`wrong_brand`)"),
        ("404", "no such brand (`brand_not_found`)"),
    ] {
        match responses.get_mut(status) {
            Some(RefOr::T(r)) => r.description = format!("{}; or {what}", r.description),
            _ => {
                let mut first = what.to_owned();
                first[..1].make_ascii_uppercase();
                let r = ResponseBuilder::new()
                    .description(first)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build();
                responses.insert(status.to_owned(), RefOr::T(r));
            }
        }
    }
}
