//! Unit tests of the pure helpers; the router, socket and impact tests are in `tests/it`.

use crate::request::{self, RenderQuery};
use app_toml::Date;

const TODAY: Date = Date {
    year: 2026,
    month: 6,
    day: 1,
};

#[test]
fn query_rejects_unknown_and_repeated_keys_at_once() {
    let (_, errors) = request::parse_query(Some("env=prod&evn=x&env=dev"));
    let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(paths, ["query.evn", "query.env"]);
    assert_eq!(errors[0].hint.as_deref(), Some("did you mean `env`?"));
}

#[test]
fn build_reports_every_bad_value() {
    let q = RenderQuery {
        version: Some("three".into()),
        strategy: Some("big-bang".into()),
        canary_weight: Some("101".into()),
        ..RenderQuery::default()
    };
    let errors = request::build(q, None, Vec::new(), TODAY).unwrap_err();
    let paths: Vec<_> = errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "query.version",
            "query.env",
            "query.image_tag",
            "query.strategy",
            "query.canary_weight"
        ]
    );
}

#[test]
fn build_defaults_version_and_keeps_the_service() {
    let (q, errors) = request::parse_query(Some("env=prod&image_tag=abc123&service=demo"));
    assert!(errors.is_empty());
    let (_, req) = request::build(q, None, errors, TODAY).unwrap();
    assert_eq!(req.version, 1);
    assert_eq!(req.service.as_deref(), Some("demo"));
    assert_eq!(req.file_name, "demo/app.toml");
    assert_eq!(req.environment, "prod");
}

#[test]
fn accept_is_negotiated_with_q_values() {
    use crate::request::OutputKind::{Json, Yaml};
    let check = |accept: Option<&str>, expect: request::OutputKind| {
        let mut headers = axum::http::HeaderMap::new();
        if let Some(a) = accept {
            headers.insert(axum::http::header::ACCEPT, a.parse().unwrap());
        }
        assert_eq!(request::output_kind(&headers), expect, "{accept:?}");
    };
    check(None, Yaml);
    check(Some("application/json"), Json);
    check(Some("application/yaml"), Yaml);
    check(Some("application/json;q=0, application/yaml"), Yaml);
    check(Some("application/json;q=0, */*"), Yaml);
    check(Some("*/*;q=0.1, application/json"), Json);
    check(Some("application/yaml;q=0.5, application/json;q=0.9"), Json);
    check(Some("application/json;q=0.5, text/yaml;q=0.5"), Yaml);
    check(Some("application/*"), Yaml);
    check(Some("application/*;q=0.2, application/json"), Json);
    check(Some("*/*"), Yaml);
    check(Some("text/html"), Yaml);
    check(Some("application/json;q=0, application/yaml;q=0"), Yaml);
    check(
        Some("APPLICATION/JSON; Q=0.7, application/yaml;q=0.3"),
        Json,
    );
    check(Some("application/json;q=nonsense"), Yaml);
}
