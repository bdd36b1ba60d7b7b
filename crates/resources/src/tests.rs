use super::*;

const HOUR: f64 = 3600.0;
const MI: f64 = (1u64 << 20) as f64;
const T0: f64 = 1_762_000_000.0;

/// `n` hourly samples of `f(i)`.
fn hourly(n: usize, f: impl Fn(usize) -> f64) -> Vec<Sample> {
    (0..n)
        .map(|i| Sample {
            t: T0 + i as f64 * HOUR,
            value: f(i),
        })
        .collect()
}

fn request(samples: &[Sample], resource: Resource) -> u64 {
    match estimate(samples, resource, &Policy::default()) {
        Outcome::Recommended(e) => e.request,
        other => panic!("expected a recommendation, got {other:?}"),
    }
}

// ---- the formula on series whose answer is known --------------------------

#[test]
fn constant_usage_is_the_value_plus_the_margin() {
    // 0.2 cores: p95 = 200m, slope 0, 200m x 1.15 = 230m (a multiple of 5m).
    let cpu = hourly(48, |_| 0.2);
    let Outcome::Recommended(e) = estimate(&cpu, Resource::Cpu, &Policy::default()) else {
        panic!()
    };
    assert_eq!(e.percentile, 200.0);
    assert_eq!(e.slope_per_second, 0.0);
    assert_eq!(e.growth, 0.0);
    assert_eq!(e.request, 230);
    assert_eq!(e.bounded, None);
    // 300Mi: 300Mi x 1.2 = 360Mi.
    assert_eq!(
        request(&hourly(48, |_| 300.0 * MI), Resource::Memory),
        360 * (1 << 20)
    );
    // 30 Mbit/s: 30 x 1.2 = 36.
    assert_eq!(request(&hourly(48, |_| 30.0), Resource::Network), 36);
}

#[test]
fn linear_growth_adds_the_slope_over_the_horizon_capped_at_the_history() {
    // 100Mi growing to 200Mi over 100 hours (101 samples): p95 (rank 96) is
    // 195Mi. The slope is fitted with the five values above it capped at
    // 195Mi: 0.99150Mi/h (1Mi/h uncapped); the horizon of 7 days is capped
    // at the 100 hours of history: (195 + 99.150) x 1.2 = 352.98Mi -> 353Mi.
    let memory = hourly(101, |i| (100.0 + i as f64) * MI);
    let Outcome::Recommended(e) = estimate(&memory, Resource::Memory, &Policy::default()) else {
        panic!()
    };
    assert_eq!(e.percentile, 195.0 * MI);
    assert!(
        (e.slope_per_second * HOUR / MI - 0.991_497).abs() < 1e-6,
        "{e:?}"
    );
    assert!((e.growth / MI - 99.149_68).abs() < 1e-4, "{e:?}");
    assert_eq!(e.request, 353 << 20);

    // With a longer history the whole horizon counts: 100m growing by 0.1m
    // an hour for 10 days (241 samples): p95 (rank 229) is 122.8m, the
    // capped slope 0.09922m/h, the growth over 168h 16.669m:
    // (122.8 + 16.669) x 1.15 = 160.39m, rounded up to the 5m step: 165m.
    let cpu = hourly(241, |i| 0.1 + i as f64 * 0.0001);
    let Outcome::Recommended(e) = estimate(&cpu, Resource::Cpu, &Policy::default()) else {
        panic!()
    };
    assert!((e.percentile - 122.8).abs() < 1e-9, "{e:?}");
    assert!((e.growth - 16.669_309).abs() < 1e-6, "{e:?}");
    assert_eq!(e.request, 165);
}

#[test]
fn a_spike_above_the_95th_percentile_does_not_move_the_request() {
    // 99 samples at 0.1 cores and one at 5 cores: p95 is 100m, and the
    // spike, capped at p95 for the trend, adds none: 100m x 1.15 = 115m.
    // Wherever the spike is: at the very end it would otherwise add a slope
    // of 2.9m/h over 99 hours.
    for at in [0, 50, 99] {
        let cpu = hourly(100, |i| if i == at { 5.0 } else { 0.1 });
        let Outcome::Recommended(e) = estimate(&cpu, Resource::Cpu, &Policy::default()) else {
            panic!()
        };
        assert_eq!(e.percentile, 100.0);
        assert_eq!(e.slope_per_second, 0.0, "{e:?}");
        assert_eq!(e.request, 115);
    }
    // Six spikes in 100 samples (above 5%) are the percentile.
    let busy = hourly(100, |i| if i % 17 == 3 { 5.0 } else { 0.1 });
    assert_eq!(request(&busy, Resource::Cpu), 5750);
}

#[test]
fn too_few_points_or_too_short_a_history_keep_the_preset() {
    let few = hourly(5, |_| 0.5);
    assert_eq!(
        estimate(&few, Resource::Cpu, &Policy::default()),
        Outcome::Insufficient {
            samples: 5,
            span_seconds: 4.0 * HOUR
        }
    );
    // 60 samples within 59 seconds: enough points, not enough history.
    let burst: Vec<_> = (0..60)
        .map(|i| Sample {
            t: T0 + f64::from(i),
            value: 0.5,
        })
        .collect();
    assert!(matches!(
        estimate(&burst, Resource::Cpu, &Policy::default()),
        Outcome::Insufficient { samples: 60, .. }
    ));
    assert_eq!(
        estimate(&[], Resource::Memory, &Policy::default()),
        Outcome::Insufficient {
            samples: 0,
            span_seconds: 0.0
        }
    );
    // Samples that are not numbers do not count.
    let mut nan = hourly(11, |_| 0.5);
    nan.push(Sample {
        t: T0 + 20.0 * HOUR,
        value: f64::NAN,
    });
    assert!(matches!(
        estimate(&nan, Resource::Cpu, &Policy::default()),
        Outcome::Insufficient { samples: 11, .. }
    ));
}

#[test]
fn floors_ceilings_and_a_falling_trend() {
    let idle = hourly(24, |_| 0.0001);
    let Outcome::Recommended(e) = estimate(&idle, Resource::Cpu, &Policy::default()) else {
        panic!()
    };
    assert_eq!((e.request, e.bounded), (10, Some(Bound::Floor)));
    let huge = hourly(24, |_| 100.0);
    let Outcome::Recommended(e) = estimate(&huge, Resource::Cpu, &Policy::default()) else {
        panic!()
    };
    assert_eq!((e.request, e.bounded), (8000, Some(Bound::Ceiling)));
    // Falling from 1 core to 0.5 (51 samples): p95 (rank 49) is 0.98 cores,
    // and the falling trend is not subtracted: 980m x 1.15 = 1127m -> 1130m.
    let falling = hourly(51, |i| 1.0 - i as f64 * 0.01);
    let Outcome::Recommended(e) = estimate(&falling, Resource::Cpu, &Policy::default()) else {
        panic!()
    };
    assert!(e.slope_per_second < 0.0);
    assert_eq!(e.growth, 0.0);
    assert_eq!(e.request, 1130);
}

#[test]
fn limits_follow_the_requests() {
    let usage = ContainerUsage {
        cpu: hourly(48, |_| 0.2),
        memory: hourly(48, |_| 300.0 * MI),
        network: hourly(48, |_| 30.0),
    };
    let report = recommend_container(&usage, &Policy::default());
    let r = report.resources(&Policy::default());
    assert_eq!(r.cpu, Some(Cpu(230)));
    assert_eq!(r.cpu_limit, Some(Cpu(460)));
    assert_eq!(r.memory, Some(Memory(360 << 20)));
    assert_eq!(r.memory_limit, r.memory);
    assert_eq!(r.netutil, Some(36));

    let policy = Policy {
        cpu_limit: CpuLimit::None,
        memory_limit_factor: 1.5,
        ..Policy::default()
    };
    let r = recommend_container(&usage, &policy).resources(&policy);
    assert_eq!(r.cpu_limit, None);
    assert_eq!(r.memory_limit, Some(Memory(540 << 20)));

    // Not enough memory history: the memory keys stay out (the preset's).
    let partial = ContainerUsage {
        cpu: hourly(48, |_| 0.2),
        memory: hourly(3, |_| 1e9),
        network: Vec::new(),
    };
    let report = recommend_container(&partial, &Policy::default());
    assert!(report.network.is_none());
    let r = report.resources(&Policy::default());
    assert_eq!((r.memory, r.memory_limit, r.netutil), (None, None, None));
    assert_eq!(r.cpu, Some(Cpu(230)));
}

#[test]
fn invalid_policies_are_refused() {
    let bad = |p: Policy| p.validate().unwrap_err().to_string();
    let mut p = Policy::default();
    p.cpu.floor = 9000;
    assert_eq!(
        bad(p),
        "invalid recommendation policy: `cpu.floor` must not exceed the ceiling"
    );
    let p = Policy {
        cpu_limit: CpuLimit::Factor(0.5),
        ..Policy::default()
    };
    assert!(bad(p).contains("`cpu_limit`"));
    let p = Policy {
        memory_limit_factor: f64::NAN,
        ..Policy::default()
    };
    assert!(bad(p).contains("`memory_limit_factor`"));
    let mut p = Policy::default();
    p.network.percentile = 0.0;
    assert!(bad(p.clone()).contains("`network.percentile`"));
    assert!(recommend(&Usage::default(), &p).is_err());
    Policy::default().validate().unwrap();
}

#[test]
fn descriptions_say_what_a_value_came_from() {
    let p = Policy::default();
    let memory = hourly(101, |i| (100.0 + i as f64) * MI);
    let o = estimate(&memory, Resource::Memory, &p);
    assert_eq!(
        describe(Resource::Memory, &o, &p.memory),
        "101 samples over 4d 4h: p95 195Mi, trend +23.8Mi/day, +20%"
    );
    let o = estimate(&hourly(3, |_| 1.0), Resource::Cpu, &p);
    assert_eq!(
        describe(Resource::Cpu, &o, &p.cpu),
        "not enough history (3 samples over 2h): keeps the size preset"
    );
    let o = estimate(&hourly(24, |_| 0.0), Resource::Cpu, &p);
    assert_eq!(
        describe(Resource::Cpu, &o, &p.cpu),
        "24 samples over 23h: p95 0m, trend flat, +15%, raised to the floor"
    );
    assert_eq!(duration(59.0), "59s");
    assert_eq!(duration(3.0 * 86_400.0), "3d");
    assert_eq!(duration(5400.0), "1h 30m");
}

// ---- quantities -------------------------------------------------------------

#[test]
fn quantities_read_and_write() {
    for (text, millicores) in [
        ("250m", 250),
        ("0.25", 250),
        ("2", 2000),
        ("1.5", 1500),
        ("0.0005", 1),
        ("1k", 1_000_000),
    ] {
        assert_eq!(text.parse::<Cpu>(), Ok(Cpu(millicores)), "{text}");
    }
    for (text, bytes) in [
        ("512Mi", 512u64 << 20),
        ("1Gi", 1 << 30),
        ("500M", 500_000_000),
        ("1048576", 1 << 20),
        ("1e3", 1000),
    ] {
        assert_eq!(text.parse::<Memory>(), Ok(Memory(bytes)), "{text}");
    }
    for bad in ["", "m", "abc", "1x", "-1", "1Zi", "1e400"] {
        assert!(bad.parse::<Cpu>().is_err(), "{bad}");
    }
    assert_eq!(Cpu(250).to_string(), "250m");
    assert_eq!(Cpu(2000).to_string(), "2");
    assert_eq!(Memory(354 << 20).to_string(), "354Mi");
    assert_eq!(Memory(3 << 30).to_string(), "3Gi");
    assert_eq!(Memory(1000).to_string(), "1000");
    assert_eq!(Memory(0).to_string(), "0");
}

// ---- usage files ------------------------------------------------------------

fn prometheus(results: &str) -> String {
    format!(r#"{{"status":"success","data":{{"resultType":"matrix","result":[{results}]}}}}"#)
}

#[test]
fn prometheus_series_are_told_apart_by_label_name_or_key() {
    let text = prometheus(
        r#"{"metric":{"container":"app","resource":"cpu","namespace":"shop"},"values":[[1762000000,"0.25"],[1762003600,"0.5"]]},
           {"metric":{"__name__":"container_memory_working_set_bytes","container":"app","pod":"shop-v1-a"},"values":[[1762000000,"1048576"]]},
           {"metric":{"__name__":"container_memory_working_set_bytes","container":"app","pod":"shop-v1-b"},"values":[[1762000000,"2097152"],[1762003600,"NaN"]]},
           {"metric":{"container":"sidecar","resource":"netutil"},"values":[[1762000000,"12.5"]]},
           {"metric":{"container":"POD","resource":"cpu"},"values":[[1762000000,"1"]]},
           {"metric":{"component":"web","container":"app","resource":"memory"},"values":[[1762007200,"4"]]},
           {"metric":{"label_app_kubernetes_io_component":"process-worker","container":"app","resource":"cpu"},"values":[[1762000000,1.5]]},
           {"metric":{"container":"app","resource":"cpu","namespace":"other"},"values":[[1762000000,"9"]]}"#,
    );
    let usage = parse_usage(&text, Some("shop")).unwrap();
    assert_eq!(usage.other_services, 1);
    assert_eq!(
        usage.containers.keys().collect::<Vec<_>>(),
        ["app", "process-worker", "sidecar"]
    );
    let app = &usage.containers["app"];
    assert_eq!(
        app.cpu,
        [
            Sample {
                t: 1_762_000_000.0,
                value: 0.25
            },
            Sample {
                t: 1_762_003_600.0,
                value: 0.5
            }
        ]
    );
    // Two pods pooled, NaN skipped, the `web` component is `app`.
    assert_eq!(
        app.memory.iter().map(|s| s.value).collect::<Vec<_>>(),
        [1_048_576.0, 2_097_152.0, 4.0]
    );
    assert_eq!(usage.containers["sidecar"].network[0].value, 12.5);
    assert_eq!(usage.containers["process-worker"].cpu[0].value, 1.5);

    // Keyed by resource, for queries whose result has no name or label.
    let keyed = format!(
        r#"{{"cpu": {}, "network": {}}}"#,
        prometheus(r#"{"metric":{"container":"app"},"values":[[1,"0.1"]]}"#),
        prometheus(r#"{"metric":{"container":"app"},"values":[[1,"7"]]}"#),
    );
    let usage = parse_usage(&keyed, None).unwrap();
    assert_eq!(usage.containers["app"].cpu[0].value, 0.1);
    assert_eq!(usage.containers["app"].network[0].value, 7.0);
    // An array of responses.
    let array = format!(
        "[{}, {}]",
        prometheus(r#"{"metric":{"container":"app","resource":"cpu"},"values":[[1,"0.1"]]}"#),
        prometheus(r#"{"metric":{"container":"app","resource":"memory"},"values":[[1,"7"]]}"#),
    );
    let usage = parse_usage(&array, None).unwrap();
    assert_eq!(usage.containers["app"].memory[0].value, 7.0);
}

#[test]
fn prometheus_errors_say_where() {
    let err = |text: &str| parse_prometheus(text, None).unwrap_err().to_string();
    assert_eq!(
        err(r#"{"status":"error","errorType":"bad_data","error":"parse error at char 5"}"#),
        "response: the query failed (status `error`): parse error at char 5"
    );
    assert_eq!(
        err(r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#),
        "response: result type `vector`: usage needs a range query (`query_range`, result type `matrix`)"
    );
    assert_eq!(
        err(&prometheus(
            r#"{"metric":{"resource":"cpu"},"values":[[1,"1"]]}"#
        )),
        "response, series 1: no `container` (or `component`) label: group the query by container, e.g. `sum by (container) (...)`"
    );
    assert_eq!(
        err(&prometheus(
            r#"{"metric":{"__name__":"container_cpu_usage_seconds_total","container":"app"},"values":[[1,"1"]]}"#
        )),
        "response, series 1: `container_cpu_usage_seconds_total` is a counter: query its rate, e.g. `rate(container_cpu_usage_seconds_total[5m])`"
    );
    assert_eq!(
        err(&prometheus(
            r#"{"metric":{"container":"app"},"values":[[1,"1"]]}"#
        )),
        "response, series 1: cannot tell which resource the series measures: add a `resource` label (cpu, memory, network), keep the metric name, or key the response by resource"
    );
    assert_eq!(
        err(&prometheus(
            r#"{"metric":{"container":"app","resource":"disk"},"values":[[1,"1"]]}"#
        )),
        "response, series 1: resource `disk` is not one of cpu, memory, network (or netutil)"
    );
    assert_eq!(
        err(&prometheus(
            r#"{"metric":{"container":"app","resource":"cpu"},"values":[[1,"1"],[2]]}"#
        )),
        "response, series 1, value 2: expected `[<unix time>, \"<value>\"]`"
    );
    assert_eq!(
        err(&prometheus(
            r#"{"metric":{"container":"app","resource":"cpu"},"values":[[1,"-1"]]}"#
        )),
        "response, series 1, value 1: negative usage `-1`"
    );
    assert!(err("{").starts_with("prometheus json: not valid JSON"));
    assert_eq!(
        err(r#"{"disk": {}}"#),
        "key `disk`: expected a Prometheus response, or responses keyed by `cpu`, `memory` or `network`"
    );
}

#[test]
fn csv_rows_with_optional_network_and_service_columns() {
    let text = "\u{feff}# exported 2026-11-03\n\
        timestamp,container,cpu_cores,memory_bytes,network_mbps,service\n\
        1762000000,app,0.25,1048576,12,shop\n\
        \n\
        2025-11-01T13:40:00Z,\"web\",0.5,,,shop\n\
        1762000000,app,9,9,9,other\n\
        1762000000,POD,1,1,1,shop\n";
    let usage = parse_csv(text, Some("shop")).unwrap();
    assert_eq!(usage.other_services, 1);
    let app = &usage.containers["app"];
    assert_eq!(app.cpu.len(), 2);
    assert_eq!(app.cpu[1].t, 1_762_004_400.0);
    assert_eq!(app.memory.len(), 1);
    assert_eq!(app.network[0].value, 12.0);
    assert_eq!(usage.containers.len(), 1);
    // The columns in another order, without network.
    let usage = parse_csv(
        "container,memory_bytes,timestamp,cpu_cores\napp,5,1,0.1\n",
        None,
    )
    .unwrap();
    assert_eq!(usage.containers["app"].memory[0].value, 5.0);
}

#[test]
fn csv_errors_name_the_line() {
    let err = |text: &str| parse_csv(text, None).unwrap_err().to_string();
    assert_eq!(err(""), "csv: empty: expected a header row");
    assert_eq!(
        err("timestamp,container,cpu_cores,memroy_bytes\n"),
        "line 1: unknown column `memroy_bytes` (expected timestamp, container, cpu_cores, memory_bytes, network_mbps, service, namespace, pod)"
    );
    assert_eq!(
        err("timestamp,cpu_cores\n"),
        "line 1: no `container` column"
    );
    assert_eq!(
        err("timestamp,container\n"),
        "line 1: no usage column (cpu_cores, memory_bytes or network_mbps)"
    );
    assert_eq!(
        err("timestamp,container,cpu_cores\n1,app,0.1\n2,app\n"),
        "line 3: 2 fields, but the header has 3"
    );
    assert_eq!(
        err("timestamp,container,cpu_cores\nyesterday,app,0.1\n"),
        "line 2: timestamp `yesterday` is neither Unix seconds nor RFC 3339"
    );
    assert_eq!(
        err("timestamp,container,cpu_cores\n1,app,lots\n"),
        "line 2: cpu_cores `lots` is not a number"
    );
    assert_eq!(
        err("timestamp,container,memory_bytes\n1,app,-5\n"),
        "line 2: negative memory_bytes `-5`"
    );
}

#[test]
fn csv_and_prometheus_of_the_same_data_recommend_the_same() {
    let mut csv = String::from("timestamp,container,cpu_cores,memory_bytes,network_mbps\n");
    let (mut cpu, mut memory, mut network) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..72 {
        let t = 1_762_000_000 + i * 3600;
        let (c, m, n) = (
            0.1 + (i % 24) as f64 * 0.01,
            (200 + i) as f64 * MI,
            20 + i % 5,
        );
        csv.push_str(&format!("{t},app,{c},{m},{n}\n"));
        cpu.push(format!(r#"[{t},"{c}"]"#));
        memory.push(format!(r#"[{t},"{m}"]"#));
        network.push(format!(r#"[{t},"{n}"]"#));
    }
    let json = prometheus(&format!(
        r#"{{"metric":{{"container":"app","resource":"cpu"}},"values":[{}]}},
           {{"metric":{{"container":"app","resource":"memory"}},"values":[{}]}},
           {{"metric":{{"container":"app","resource":"network"}},"values":[{}]}}"#,
        cpu.join(","),
        memory.join(","),
        network.join(",")
    ));
    let from_csv = recommend(&parse_usage(&csv, None).unwrap(), &Policy::default()).unwrap();
    let from_json = recommend(&parse_usage(&json, None).unwrap(), &Policy::default()).unwrap();
    assert_eq!(from_csv, from_json);
    let r = from_csv.recommendations("shop", "resources.toml");
    assert_eq!(r.containers["app"].netutil, Some(29));
}

// ---- the recommendations file -----------------------------------------------

#[test]
fn recommendations_file_reads_and_writes_back() {
    let text = r#"
service = "shop"
[containers.app]
cpu = "250m"
cpu_limit = 1
memory = "512Mi"
netutil = 40
[containers.process-worker]
memory = 1073741824
memory_limit = "1.5Gi"
[containers.job-nightly]
"#;
    let r = Recommendations::from_toml(text, "resources.toml").unwrap();
    assert_eq!(r.service.as_deref(), Some("shop"));
    assert_eq!(
        r.containers["app"],
        ContainerResources {
            cpu: Some(Cpu(250)),
            cpu_limit: Some(Cpu(1000)),
            memory: Some(Memory(512 << 20)),
            memory_limit: None,
            netutil: Some(40),
        }
    );
    assert_eq!(
        r.containers["process-worker"].memory_limit,
        Some(Memory(1536 << 20))
    );
    assert!(r.containers["job-nightly"].is_empty());
    let written = r.to_toml();
    assert_eq!(
        Recommendations::from_toml(&written, "resources.toml").unwrap(),
        r
    );
    assert!(written.contains("\n[containers.app]\ncpu = \"250m\"\ncpu_limit = \"1\"\nmemory = \"512Mi\"\nnetutil = 40\n"), "{written}");
}

#[test]
fn recommendations_file_errors() {
    let err = |text: &str| {
        Recommendations::from_toml(text, "r.toml")
            .unwrap_err()
            .to_string()
    };
    assert_eq!(
        err("[containers.app]\ncpu = \"500m\"\ncpu_limit = \"250m\"\n"),
        "r.toml: `containers.app.cpu_limit` (250m) is below `cpu` (500m)"
    );
    assert_eq!(
        err("[containers.app]\nmemory_limit = \"1Gi\"\n"),
        "r.toml: `containers.app.memory_limit` needs `memory` beside it"
    );
    assert_eq!(
        err("[containers.app]\nmemory = \"1Gi\"\nmemory_limit = \"512Mi\"\n"),
        "r.toml: `containers.app.memory_limit` (512Mi) is below `memory` (1Gi)"
    );
    assert_eq!(
        err("[containers.app]\ncpu = \"lots\"\n"),
        "r.toml: `containers.app.cpu`: `lots` is not a quantity (e.g. `250m`, `1`, `512Mi`)"
    );
    assert_eq!(
        err("[containers.app]\ncpu = \"0\"\n"),
        "r.toml: `containers.app.cpu` must be above 0"
    );
    assert_eq!(
        err("[containers.app]\nnetutil = -1\n"),
        "r.toml: `containers.app.netutil`: -1 is not a whole number of Mbit/s (0 to 4294967295)"
    );
    assert_eq!(
        err("[containers.mesh-proxy]\ncpu = \"1\"\n"),
        "r.toml: `containers.mesh-proxy` is not a container of a service: expected `app`, `process-<name>`, `job-<name>` or `init-<name>`"
    );
    assert!(err("[containers.app]\ncpus = \"1\"\n").contains("unknown field `cpus`"));
    assert!(err("[containers.app]\nnetutil = 1.5\n").starts_with("r.toml: "));
    assert!(err("service = \n").starts_with("r.toml: "));
}

#[test]
fn report_writes_the_file_with_its_reasons() {
    let mut usage = Usage::default();
    usage.containers.insert(
        "app".into(),
        ContainerUsage {
            cpu: hourly(48, |_| 0.2),
            memory: hourly(101, |i| (100.0 + i as f64) * MI),
            network: hourly(48, |_| 30.0),
        },
    );
    usage.containers.insert(
        "process-worker".into(),
        ContainerUsage {
            cpu: hourly(3, |_| 0.2),
            ..ContainerUsage::default()
        },
    );
    let report = recommend(&usage, &Policy::default()).unwrap();
    let text = report.to_toml("shop");
    assert_eq!(
        text,
        r#"# Resource recommendations, written by `paas resources recommend`.
# `paas render` and `paas service deploy` read this file beside app.toml:
# each value replaces the size preset of its container; what is missing
# comes from the preset.
service = "shop"

[containers.app]
# cpu: 48 samples over 1d 23h: p95 200m, trend flat, +15%
# memory: 101 samples over 4d 4h: p95 195Mi, trend +23.8Mi/day, +20%
# network: 48 samples over 1d 23h: p95 30Mbit/s, trend flat, +20%
cpu = "230m"
cpu_limit = "460m"
memory = "353Mi"
memory_limit = "353Mi"
netutil = 36

# [containers.process-worker] keeps its size preset
# cpu: not enough history (3 samples over 2h): keeps the size preset
# memory: no usage: keeps the size preset
"#
    );
    let back = Recommendations::from_toml(&text, "resources.toml").unwrap();
    assert_eq!(back, report.recommendations("shop", "resources.toml"));
    assert_eq!(back.containers.len(), 1);
}

// ---- properties -------------------------------------------------------------

mod properties {
    use proptest::prelude::*;

    use super::super::*;

    fn any_f64() -> impl Strategy<Value = f64> {
        prop_oneof![
            4 => 0.0..1e4f64,
            1 => any::<f64>(),
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
            1 => -1e3..0.0f64,
            1 => 1e15..1e300f64,
        ]
    }

    fn samples() -> impl Strategy<Value = Vec<Sample>> {
        proptest::collection::vec(
            (prop_oneof![4 => 1.7e9..1.8e9f64, 1 => any_f64()], any_f64())
                .prop_map(|(t, value)| Sample { t, value }),
            0..80,
        )
    }

    fn resource_policy() -> impl Strategy<Value = ResourcePolicy> {
        (
            0.1..=100.0f64,
            0.0..3.0f64,
            0u64..5_000,
            0u64..100_000,
            1u64..1_000,
        )
            .prop_map(|(percentile, margin, floor, extra, step)| ResourcePolicy {
                percentile,
                margin,
                floor,
                ceiling: floor + extra,
                step,
            })
    }

    fn policy() -> impl Strategy<Value = Policy> {
        (
            resource_policy(),
            resource_policy(),
            resource_policy(),
            0.0..1e7f64,
            2usize..20,
            0.0..1e5f64,
            1.0..4.0f64,
            prop_oneof![
                Just(CpuLimit::None),
                (1.0..4.0f64).prop_map(CpuLimit::Factor)
            ],
        )
            .prop_map(
                |(cpu, memory, network, horizon, min_samples, min_history, mem, cpu_limit)| {
                    Policy {
                        cpu,
                        memory,
                        network,
                        horizon_seconds: horizon,
                        min_samples,
                        min_history_seconds: min_history,
                        memory_limit_factor: mem,
                        cpu_limit,
                    }
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

        #[test]
        fn requests_stay_within_floors_and_ceilings(
            cpu in samples(),
            memory in samples(),
            network in samples(),
            policy in prop_oneof![Just(Policy::default()), policy()],
        ) {
            policy.validate().unwrap();
            let usage = ContainerUsage { cpu, memory, network };
            let report = recommend_container(&usage, &policy);
            for r in Resource::ALL {
                if let Some(Outcome::Recommended(e)) = report.outcome(r) {
                    let p = policy.resource(r);
                    prop_assert!(e.request >= p.floor && e.request <= p.ceiling, "{r}: {e:?} {p:?}");
                    prop_assert!(e.samples >= policy.min_samples);
                }
            }
            let file = report.resources(&policy);
            if let (Some(c), Some(l)) = (file.cpu, file.cpu_limit) {
                prop_assert!(l >= c);
            }
            if let (Some(m), Some(l)) = (file.memory, file.memory_limit) {
                prop_assert!(l >= m);
            }
            if let Some(n) = file.netutil {
                prop_assert!(u64::from(n) >= policy.network.floor.min(u64::from(u32::MAX)));
            }
            // What is written reads back as the same values.
            let mut recs = Recommendations { file: "r.toml".into(), ..Recommendations::default() };
            if !file.is_empty() {
                recs.containers.insert("app".into(), file);
            }
            prop_assert_eq!(Recommendations::from_toml(&recs.to_toml(), "r.toml").unwrap(), recs);
        }

        #[test]
        fn a_constant_series_is_recommended_from_its_value(
            value in 0.0..64.0f64,
            n in 12usize..200,
        ) {
            let samples = super::hourly(n, |_| value);
            let Outcome::Recommended(e) = estimate(&samples, Resource::Cpu, &Policy::default()) else {
                panic!("{n} hourly samples are enough");
            };
            let expected = (value * 1000.0 * 1.15).clamp(10.0, 8000.0);
            prop_assert!((e.request as f64 - expected).abs() <= 5.0 + 1e-6, "{e:?} vs {expected}");
        }

        #[test]
        fn usage_parsers_never_panic(text in "\\PC{0,300}") {
            let _ = parse_usage(&text, None);
            let _ = parse_csv(&text, Some("x"));
            let _ = parse_prometheus(&text, None);
            let _ = Recommendations::from_toml(&text, "r.toml");
        }

        #[test]
        fn csv_like_input_never_panics(
            rows in proptest::collection::vec(
                (
                    prop_oneof![Just("1762000000".to_owned()), "[0-9.eE+-]{0,12}", Just("2026-11-01T00:00:00Z".to_owned())],
                    prop_oneof![Just("app".to_owned()), Just("".to_owned()), "[a-z-]{0,8}"],
                    "[0-9.eE+-]{0,10}|NaN|inf",
                    "[0-9.eE+-]{0,10}",
                ),
                0..30,
            ),
        ) {
            let mut text = String::from("timestamp,container,cpu_cores,memory_bytes\n");
            for (t, c, cpu, mem) in rows {
                text.push_str(&format!("{t},{c},{cpu},{mem}\n"));
            }
            if let Ok(usage) = parse_csv(&text, None) {
                let report = recommend(&usage, &Policy::default()).unwrap();
                let _ = report.to_toml("x");
            }
        }
    }
}
