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
