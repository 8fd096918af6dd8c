//! The OpenAPI document, generated from the handlers' `#[utoipa::path]` attributes and the
//! request and response types; served at `/api/v1/openapi.json`.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ObjectBuilder, RefOr, Schema};
use utoipa::{Modify, OpenApi, PartialSchema, ToSchema};

use crate::api;

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

pub(crate) struct Bearer;

impl Modify for Bearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Adds the error responses every operation can give, in the one error shape, where the
/// handler's own attribute does not list them with a more specific description.
pub(crate) struct StandardErrors;

impl Modify for StandardErrors {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, ResponseBuilder};
        let error = |what: &str| {
            let content = ContentBuilder::new().schema(Some(ErrorBody::schema())).build();
            RefOr::T(ResponseBuilder::new().description(what).content("application/json", content).build())
        };
        for item in doc.paths.paths.values_mut() {
            let ops = [(&mut item.get, false), (&mut item.post, true)];
            for (op, writes) in ops {
                let Some(op) = op.as_mut() else { continue };
                let secured = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let mut add = vec![
                    ("400", "the request does not parse (query, path or body)"),
                    ("404", "no such resource"),
                    ("429", "too many requests; `Retry-After` says when to retry"),
                ];
                if secured {
                    add.push(("401", "no or unknown token"));
                    add.push(("403", "the caller's role may not do this"));
                }
                if writes {
                    add.push(("409", "the step conflicts with the current state"));
                    add.push(("413", "the body is too large"));
                    add.push(("415", "the body's content type is not the one documented"));
                    add.push(("422", "the body parses but a field is invalid; nothing was changed"));
                }
                for (status, what) in add {
                    op.responses.responses.entry(status.to_owned()).or_insert_with(|| error(what));
                }
            }
        }
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
        api::acknowledge_by_phone,
        api::deliveries,
        api::dead_letters,
        api::retry_dead,
        api::plan_preview,
        api::upload_list,
        api::list_versions,
        api::restore_list,
        crate::compliance_view::alarms,
        crate::compliance_view::phone_notification,
        crate::compliance_view::explain,
        crate::compliance_view::site_check,
        crate::compliance_view::close,
        crate::history_view::warning_history,
        crate::advisories_view::addressed,
        crate::advisories_view::answer,
    ),
    components(schemas(
        api::PublicCurrent,
        api::PublicWarning,
        api::OutlookDay,
        api::ReviewRequest,
        api::WarningRequest,
        api::PhoneAcknowledgement,
        api::DeliveryRow,
        api::StepName,
        api::LevelName,
        api::ActionName,
        crate::compliance_view::TextBody,
        crate::compliance_view::Closure,
        crate::history_view::WarningHistory,
        crate::history_view::WarningRecord,
        crate::history_view::StepRecord,
        crate::advisories_view::AddressedAdvisory,
        crate::advisories_view::AnswerRecord,
        crate::advisories_view::AnswerBody,
        crate::advisories_view::AnswerKind,
    )),
    modifiers(&Bearer, &StandardErrors)
)]
pub struct ApiDoc;
