//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` attributes and the
//! request and response types; served at `/api/v1/openapi.json`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ObjectBuilder, RefOr, Schema};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

use crate::api;

/// A JSON object whose shape is the domain type's serde form (warnings, notices, plans, runs).
pub struct Opaque;

impl PartialSchema for Opaque {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new().description(Some("a domain object as serialised by hazewarn")).into()
    }
}

impl ToSchema for Opaque {}

/// `{"error": {"code", "message"}}`.
pub struct ErrorBody;

impl PartialSchema for ErrorBody {
    fn schema() -> RefOr<Schema> {
        let inner = ObjectBuilder::new()
            .property("code", String::schema())
            .required("code")
            .property("message", String::schema())
            .required("message");
        ObjectBuilder::new().property("error", inner).required("error").into()
    }
}

impl ToSchema for ErrorBody {}

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "hazewarn", description = "Heavy-pollution early warning: forecasts, warnings, notices"),
    paths(
        api::public_current,
        api::latest_forecast,
        api::review,
        api::current_warning,
        api::warning_step,
        api::notices,
        api::notice,
        api::acknowledge,
        api::deliveries,
        api::dead_letters,
        api::retry_dead,
        api::plan_preview,
        api::upload_list,
    ),
    components(schemas(api::PublicCurrent, api::PublicWarning, api::OutlookDay, api::ReviewRequest, api::WarningRequest, api::DeliveryRow)),
    modifiers(&Bearer)
)]
pub struct ApiDoc;
