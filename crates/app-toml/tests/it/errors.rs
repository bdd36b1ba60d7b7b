//! One test per error class, each through [`check`]: the source, then every
//! expected diagnostic as `line:column [kind] path: message (hint)`.

use crate::{check, check_bytes};

#[test]
fn not_utf8() {
    check_bytes(
        b"\xff\xfe",
        Some("svc"),
        r#"
        1:1 [not-utf8] : the file is not UTF-8: invalid byte 0xff (save app.toml as UTF-8)
    "#,
    );
    check_bytes(
        "description = \"café \u{e9}\"\n[engine]\nname = \"golang\"\n".as_bytes(),
        Some("svc"),
        "",
    );
    check_bytes(
        b"description = \"caf\xc3\xa9 \xe9\"\n",
        Some("svc"),
        r#"
        1:21 [not-utf8] : the file is not UTF-8: invalid byte 0xe9 (save app.toml as UTF-8)
    "#,
    );
}

#[test]
fn empty() {
    check(
        "",
        r#"
        1:1 [empty] : the file is empty (an app.toml needs at least `[engine]` with a `name`)
    "#,
    );
    check(
        "# only a comment\n\n   \n",
        r#"
        1:1 [empty] : the file is empty (an app.toml needs at least `[engine]` with a `name`)
    "#,
    );
}

#[test]
fn syntax() {
    check(
        "[engine]\nname = \"golang\"\nreplicas = [1,\n",
        r#"
        3:15 [syntax] : invalid TOML: unclosed array, expected `]`
    "#,
    );
    check(
        "a = 1\na = 2\n",
        r#"
        2:1 [syntax] : invalid TOML: duplicate key `a`
    "#,
    );
    check(
        "[engine]\nname = golang\n",
        r#"
        2:8 [syntax] : invalid TOML: string values must be quoted, expected literal string
    "#,
    );
    // Every syntax error of the file, one per line.
    check(
        "name = \"x\"\n[engine]\nname = golang\n\n[ports]\nhttp = 80 80\nx = \n",
        r#"
        3:8 [syntax] : invalid TOML: string values must be quoted, expected literal string
        6:8 [syntax] : invalid TOML: string values must be quoted, expected literal string
        7:5 [syntax] : invalid TOML: string values must be quoted, expected literal string
    "#,
    );
    // An unclosed bracket swallows what follows: the first error and the
    // unclosed one, not the cascade between them.
    check(
        "[engine]\nname = golang\nreplicas = [1,\n[ports]\nhttp = 80 80\n",
        r#"
        2:8 [syntax] : invalid TOML: string values must be quoted, expected literal string
        5:13 [syntax] : invalid TOML: unclosed array, expected `]`
    "#,
    );
    // An integer TOML reads but an i64 cannot hold.
    check(
        "[engine]\nname = \"golang\"\nreplicas = 99999999999999999999\n",
        r#"
        3:12 [syntax] : invalid TOML: integer out of range (the largest is 9223372036854775807)
    "#,
    );
}

#[test]
fn type_errors() {
    check(
        r#"
replicas = "3"
description = 5

[engine]
name = "golang"
version = 1.14

[secrets]
vault = "true"

[health]
startup_seconds = 60.0

[deploy]
canary_steps = 5

[dependencies]
users = "http"

[envs.prod]
replicas = 2.5
"#,
        r#"
            2:12 [type] replicas: expected integer, found string (remove the quotes: `3`)
            3:15 [type] description: expected string, found integer (quote it: `"5"`)
            7:11 [type] engine.version: expected string, found float (quote it: `"1.14"`)
            10:9 [type] secrets.vault: expected boolean, found string (remove the quotes: `true`)
            13:19 [type] health.startup_seconds: expected integer, found float (write it without a decimal point: `60`)
            16:16 [type] deploy.canary_steps: expected array, found integer
            19:9 [type] dependencies.users: expected table, found string (write it as a table: `[dependencies.users]`)
            22:12 [type] envs.prod.replicas: expected integer, found float
        "#,
    );
}

#[test]
fn env_values_are_strings_integers_or_booleans() {
    check(
        r#"
[engine]
name = "golang"

[env]
RATIO = 0.5
WHEN = 2026-01-01
LIST = ["a"]
NESTED = { a = 1 }
OK = true
COUNT = 3
"#,
        r#"
            6:9 [type] env.RATIO: expected string, integer or boolean, found float (quote it: `RATIO = "0.5"`)
            7:8 [type] env.WHEN: expected string, integer or boolean, found date-time (quote it: `WHEN = "2026-01-01"`)
            8:8 [type] env.LIST: expected string, integer or boolean, found array (environment variables are plain values: write it as one string)
            9:10 [type] env.NESTED: expected string, integer or boolean, found table (environment variables are plain values: write it as one string)
        "#,
    );
}

#[test]
fn range_errors() {
    check(
        r#"
replicas = 1001
schema_version = 2

[engine]
name = "golang"

[ports]
http = 0
admin = 70000

[health]
startup_seconds = 0

[autoscale]
min = 0
max = 2000
cpu_percent = 101

[deploy]
canary_steps = [0, 100]

[jobs.nightly]
schedule = "@daily"
command = ["./nightly"]
deadline_seconds = 0

[envs.prod]
replicas = -1
"#,
        r#"
            2:12 [range] replicas: 1001 is out of range: expected 0 to 1000
            3:18 [range] schema_version: unsupported schema_version 2 (the only version is 1)
            9:8 [range] ports.http: 0 is out of range: expected 1 to 65535
            10:9 [range] ports.admin: 70000 is out of range: expected 1 to 65535
            13:19 [range] health.startup_seconds: 0 is out of range: expected 1 to 3600
            16:7 [range] autoscale.min: 0 is out of range: expected 1 to 1000
            17:7 [range] autoscale.max: 2000 is out of range: expected 1 to 1000
            18:15 [range] autoscale.cpu_percent: 101 is out of range: expected 1 to 100
            21:17 [range] deploy.canary_steps[0]: 0 is out of range: expected 1 to 99
            21:20 [range] deploy.canary_steps[1]: 100 is out of range: expected 1 to 99
            26:20 [range] jobs.nightly.deadline_seconds: 0 is out of range: expected 1 to 604800
            29:12 [range] envs.prod.replicas: -1 is out of range: expected 0 to 1000
        "#,
    );
}

#[test]
fn unknown_keys() {
    check(
        r#"
replica = 2
descripton = "x"
size = "small"

[engine]
name = "golang"
sise = "small"

[autoscal]
min = 1

[envs.prod]
replicas = 3
strategy = "canary"
name = "other"
schema_version = 1
repliacs = 4

[envs.prod.engine]
verison = "1.21"
"#,
        r#"
            2:1 [unknown-key] replica: unknown key `replica` (did you mean `replicas`?)
            3:1 [unknown-key] descripton: unknown key `descripton` (did you mean `description`?)
            4:1 [unknown-key] size: unknown key `size` (`size` belongs under `[engine]`)
            8:1 [unknown-key] engine.sise: unknown key `sise` (did you mean `size`?)
            10:2 [unknown-key] autoscal: unknown key `autoscal` (did you mean `autoscale`?)
            15:1 [unknown-key] envs.prod.strategy: unknown key `strategy` (`strategy` belongs under `[envs.prod.deploy]`)
            16:1 [unknown-key] envs.prod.name: `name` cannot be set per environment (set it once at the top level of the file)
            17:1 [unknown-key] envs.prod.schema_version: `schema_version` cannot be set per environment (set it once at the top level of the file)
            18:1 [unknown-key] envs.prod.repliacs: unknown key `repliacs` (did you mean `replicas`?)
            21:1 [unknown-key] envs.prod.engine.verison: unknown key `verison` (did you mean `version`?)
        "#,
    );
}

#[test]
fn missing_keys() {
    check(
        r#"
description = "no engine"

[databases.main]

[routes.public]
path = "/api"

[jobs.nightly]
command = ["./run"]

[exceptions.cpu-limit]
reason = "bursty"

[autoscale]
min = 2
"#,
        r#"
            1:1 [missing-key] engine: missing required table `[engine]` (add `[engine]` with `name = "..."`, one of `golang`, `python`, `node`, `rust`, `java`, `php` or `generic`)
            4:1 [missing-key] databases.main.engine: missing required key `engine` in `[databases.main]` (add `engine = "..."`, one of `postgres`, `redis` or `kafka`)
            6:1 [missing-key] routes.public.host: missing required key `host` in `[routes.public]` (add `host = "app.example.com"`)
            9:1 [missing-key] jobs.nightly.schedule: missing required key `schedule` in `[jobs.nightly]` (add `schedule = "30 3 * * *"`)
            12:1 [missing-key] exceptions.cpu-limit.expires: missing required key `expires` in `[exceptions.cpu-limit]` (add `expires = 2027-03-31`: exceptions must end)
            15:1 [missing-key] autoscale.cpu_percent: missing required key `cpu_percent` in `[autoscale]` (add `cpu_percent = 70`: autoscaling needs `min`, `max` and `cpu_percent`)
            15:1 [missing-key] autoscale.max: missing required key `max` in `[autoscale]` (add `max = 10`: autoscaling needs `min`, `max` and `cpu_percent`)
        "#,
    );
    // `[engine]` present but without `name`: points at the table.
    check(
        "[engine]\nsize = \"small\"\n",
        r#"
        1:1 [missing-key] engine.name: missing required key `name` in `[engine]` (add `name = "..."`, one of `golang`, `python`, `node`, `rust`, `java`, `php` or `generic`)
    "#,
    );
}

#[test]
fn missing_key_in_some_environments_only() {
    // prod provides the host, the other environments resolve without one.
    check(
        r#"
[engine]
name = "golang"

[routes.public]
path = "/api"

[envs.prod.routes.public]
host = "api.example.com"
"#,
        r#"
            5:1 [missing-key] routes.public.host: missing required key `host` in `[routes.public]` when resolved for `staging`, `dev` and `local` (add `host = "app.example.com"`)
        "#,
    );
}

#[test]
fn service_name_from_file_or_fallback() {
    let no_name = "[engine]\nname = \"golang\"\n";
    check_bytes(
        no_name.as_bytes(),
        None,
        r#"
        1:1 [missing-key] name: missing service name (add `name = "my-service"` at the top of app.toml or pass --service)
    "#,
    );
    check_bytes(
        no_name.as_bytes(),
        Some("My_Service"),
        r#"
        1:1 [invalid-name] name: service name `My_Service` (from --service or the directory name) contains uppercase letter 'M', only lowercase letters, digits and '-' are allowed (did you mean `my-service`?)
    "#,
    );
    check_bytes(
        no_name.as_bytes(),
        Some(&"a".repeat(41)),
        r#"
        1:1 [invalid-name] name: service name `aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa` (from --service or the directory name) is 41 characters long, at most 40 are allowed (a service name is a DNS-1123 label of at most 40 characters: lowercase letters, digits and '-')
    "#,
    );
    check_bytes(no_name.as_bytes(), Some("userinfo"), "");
    // The file's name wins over the fallback, and is validated the same way.
    check_bytes(
        "name = \"User_Info\"\n[engine]\nname = \"golang\"\n".as_bytes(),
        Some("userinfo"),
        r#"
            1:8 [invalid-name] name: service name `User_Info` contains uppercase letter 'U', only lowercase letters, digits and '-' are allowed (did you mean `user-info`?)
        "#,
    );
}

#[test]
fn unknown_environments() {
    check(
        r#"
[engine]
name = "golang"

[envs.production]
replicas = 3

[envs.qa]
replicas = 1

[envs.stagin]
replicas = 1

[envs]
dev = 3
"#,
        r#"
            5:7 [unknown-environment] envs.production: unknown environment `production` (expected one of `prod`, `staging`, `dev` or `local`)
            8:7 [unknown-environment] envs.qa: unknown environment `qa` (expected one of `prod`, `staging`, `dev` or `local`)
            11:7 [unknown-environment] envs.stagin: unknown environment `stagin` (did you mean `staging`?)
            15:7 [type] envs.dev: expected table, found integer (write it as a table: `[envs.dev]`)
        "#,
    );
}

#[test]
fn unknown_engines_and_sizes() {
    check(
        r#"
[engine]
name = "golng"
size = "huge"

[processes.worker]
command = ["./worker"]
size = "medum"

[envs.prod.engine]
name = "cobol"
size = "Large"
"#,
        r#"
            3:8 [unknown-engine] engine.name: unknown engine `golng` (did you mean `golang`?)
            4:8 [unknown-size] engine.size: unknown size `huge` (expected one of `xsmall`, `small`, `medium`, `large` or `xlarge`)
            8:8 [unknown-size] processes.worker.size: unknown size `medum` (did you mean `medium`?)
            11:8 [unknown-engine] envs.prod.engine.name: unknown engine `cobol` (expected one of `golang`, `python`, `node`, `rust`, `java`, `php` or `generic`)
            12:8 [unknown-size] envs.prod.engine.size: unknown size `Large` (did you mean `large`?)
        "#,
    );
}

#[test]
fn unknown_variants() {
    check(
        r#"
kind = "bussiness"
criticality = "critical"

[engine]
name = "golang"

[databases.cache]
engine = "redis7"

[deploy]
strategy = "bluegreen"

[envs.prod]
kind = "Infra"
"#,
        r#"
            2:8 [unknown-variant] kind: unknown kind `bussiness` (did you mean `business`?)
            3:15 [unknown-variant] criticality: unknown criticality `critical` (expected one of `low`, `normal` or `high`)
            9:10 [unknown-variant] databases.cache.engine: unknown database engine `redis7` (did you mean `redis`?)
            12:12 [unknown-variant] deploy.strategy: unknown strategy `bluegreen` (did you mean `blue-green`?)
            15:8 [unknown-variant] envs.prod.kind: unknown kind `Infra` (did you mean `infra`?)
        "#,
    );
}

#[test]
fn invalid_names() {
    check(
        r#"
name = "User_Info"

[engine]
name = "golang"

[ports]
HTTP = 8080
"123" = 81
averyveryverylongportname = 82

[env]
LOG-LEVEL = "info"
1X = "a"

[secrets]
keys = ["DB_PASSWORD", "DB-PASSWORD"]

[dependencies.Users]
port = "Admin"

[databases.main_db]
engine = "postgres"

[routes.public]
host = "Example.COM"

[processes.my_worker]
command = ["./w"]

[jobs."nightly job"]
schedule = "@daily"
command = ["./j"]

[init.-migrate]
command = ["./m"]
"#,
        r#"
            2:8 [invalid-name] name: service name `User_Info` contains uppercase letter 'U', only lowercase letters, digits and '-' are allowed (did you mean `user-info`?)
            8:1 [invalid-name] ports.HTTP: port name `HTTP` contains uppercase letter 'H', only lowercase letters, digits and '-' are allowed (port names are IANA service names: up to 15 lowercase letters, digits and '-')
            9:1 [invalid-name] ports.123: port name `123` must contain at least one letter (port names are IANA service names: up to 15 lowercase letters, digits and '-')
            10:1 [invalid-name] ports.averyveryverylongportname: port name `averyveryverylongportname` is 25 characters long, at most 15 are allowed (port names are IANA service names: up to 15 lowercase letters, digits and '-')
            13:1 [invalid-name] env.LOG-LEVEL: variable name `LOG-LEVEL` contains '-', only letters, digits and '_' are allowed (did you mean `LOG_LEVEL`?)
            14:1 [invalid-name] env.1X: variable name `1X` must not start with a digit (names are letters, digits and '_', not starting with a digit)
            17:24 [invalid-name] secrets.keys[1]: secret name `DB-PASSWORD` contains '-', only letters, digits and '_' are allowed (did you mean `DB_PASSWORD`?)
            19:15 [invalid-name] dependencies.Users: dependency name `Users` contains uppercase letter 'U', only lowercase letters, digits and '-' are allowed (did you mean `users`?)
            20:8 [invalid-name] dependencies.Users.port: port name `Admin` contains uppercase letter 'A', only lowercase letters, digits and '-' are allowed (name one of the dependency's `[ports]`, e.g. `http`)
            22:12 [invalid-name] databases.main_db: database name `main_db` contains '_', only lowercase letters, digits and '-' are allowed (did you mean `main-db`?)
            26:8 [invalid-name] routes.public.host: host `Example.COM` has a label `Example` that contains uppercase letter 'E', only lowercase letters, digits and '-' are allowed (did you mean `example.com`?)
            28:12 [invalid-name] processes.my_worker: process name `my_worker` contains '_', only lowercase letters, digits and '-' are allowed (did you mean `my-worker`?)
            31:7 [invalid-name] jobs."nightly job": job name `nightly job` contains a space, only lowercase letters, digits and '-' are allowed (did you mean `nightly-job`?)
            35:7 [invalid-name] init.-migrate: init job name `-migrate` must start and end with a lowercase letter or digit (did you mean `migrate`?)
        "#,
    );
}

#[test]
fn duplicate_ports() {
    check(
        r#"
[engine]
name = "golang"

[ports]
http = 8080
metrics = 8080
admin = 9000

[envs.prod.ports]
admin = 8080
"#,
        r#"
            7:11 [duplicate-port] ports.metrics: port 8080 is also used by `http` (give each port its own number)
            11:9 [duplicate-port] envs.prod.ports.admin: port 8080 is also used by `http` when resolved for `prod` (give each port its own number)
        "#,
    );
}

#[test]
fn invalid_cron() {
    check(
        r#"
[engine]
name = "golang"

[jobs.a]
schedule = "61 24 0 13 8"
command = ["./a"]

[jobs.b]
schedule = "* * * *"
command = ["./b"]

[jobs.c]
schedule = "@fortnightly"
command = ["./c"]

[jobs.d]
schedule = "*/0 5-1 * foo mon"
command = ["./d"]

[jobs.ok]
schedule = "*/15 9-17 1,15 jan-jun mon-fri"
command = ["./ok"]

[jobs.macro]
schedule = "@weekly"
command = ["./ok"]
"#,
        r#"
            6:12 [invalid-cron] jobs.a.schedule: invalid cron expression `61 24 0 13 8`: minute field `61`: 61 is out of range 0-59; hour field `24`: 24 is out of range 0-23; day-of-month field `0`: 0 is out of range 1-31; month field `13`: 13 is out of range 1-12; day-of-week field `8`: 8 is out of range 0-7 (a schedule is `minute hour day-of-month month day-of-week`, e.g. `30 3 * * *`, or a macro such as `@daily`)
            10:12 [invalid-cron] jobs.b.schedule: invalid cron expression `* * * *`: expected 5 fields (minute hour day-of-month month day-of-week), found 4 (a schedule is `minute hour day-of-month month day-of-week`, e.g. `30 3 * * *`, or a macro such as `@daily`)
            14:12 [invalid-cron] jobs.c.schedule: invalid cron expression `@fortnightly`: unknown cron macro `@fortnightly`, expected one of `@yearly`, `@annually`, `@monthly`, `@weekly`, `@daily`, `@midnight` or `@hourly` (a schedule is `minute hour day-of-month month day-of-week`, e.g. `30 3 * * *`, or a macro such as `@daily`)
            18:12 [invalid-cron] jobs.d.schedule: invalid cron expression `*/0 5-1 * foo mon`: minute field `*/0`: step must be at least 1; hour field `5-1`: range 5-1 goes backwards; month field `foo`: `foo` is not a number or a name (a schedule is `minute hour day-of-month month day-of-week`, e.g. `30 3 * * *`, or a macro such as `@daily`)
        "#,
    );
}

#[test]
fn self_dependency() {
    check(
        r#"
name = "users"

[engine]
name = "golang"

[dependencies.users]

[dependencies.billing]

[envs.prod.dependencies.users]
timeout_ms = 100
"#,
        r#"
            7:15 [self-dependency] dependencies.users: service `users` depends on itself (remove `[dependencies.users]`)
        "#,
    );
    // With the fallback name too, and only where an environment adds it.
    check_bytes(
        b"[engine]\nname = \"golang\"\n\n[envs.dev.dependencies.svc]\n",
        Some("svc"),
        r#"
            4:24 [self-dependency] envs.dev.dependencies.svc: service `svc` depends on itself when resolved for `dev` (remove `[envs.dev.dependencies.svc]`)
        "#,
    );
}

#[test]
fn expired_exceptions() {
    check(
        r#"
[engine]
name = "golang"

[exceptions.cpu-limit]
reason = "bursty batch"
expires = 2026-11-22

[exceptions.run-as-non-root]
reason = "legacy image"
expires = "2026-11-23"

[exceptions.drop-all-capabilities]
reason = "needs NET_ADMIN"
expires = "2020-01-01"

[envs.prod.exceptions.cpu-limit]
expires = 2027-01-31
"#,
        r#"
            7:11 [expired-exception] exceptions.cpu-limit.expires: exception `cpu-limit` expired on 2026-11-22 when resolved for `staging`, `dev` and `local` (fix what needs the exception or renew it with a new reason and a date from 2026-11-23 on)
            15:11 [expired-exception] exceptions.drop-all-capabilities.expires: exception `drop-all-capabilities` expired on 2020-01-01 (fix what needs the exception or renew it with a new reason and a date from 2026-11-23 on)
        "#,
    );
}

#[test]
fn invalid_exceptions() {
    check(
        r#"
[engine]
name = "golang"

[exceptions.read-only-rootfs]
reason = "writes to /var"
expires = 2027-01-01

[exceptions.cpu-limit]
reason = " "
expires = "2026-02-30"

[exceptions.min-prod-replicas]
reason = "singleton"
expires = 2027-01-01T10:00:00

[exceptions.default-deny-egress]
reason = "calls a partner API"
expires = 20270101
"#,
        r#"
            5:13 [unknown-key] exceptions.read-only-rootfs: unknown hardening rule `read-only-rootfs` (expected one of `read-only-root-filesystem`, `run-as-non-root`, `drop-all-capabilities`, `cpu-limit`, `default-deny-egress` or `min-prod-replicas`)
            10:10 [invalid] exceptions.cpu-limit.reason: reason must not be empty (say why the service needs this exception)
            11:11 [invalid] exceptions.cpu-limit.expires: `2026-02-30` is not a valid date (write a date as YYYY-MM-DD, e.g. `2027-03-31`)
            15:11 [type] exceptions.min-prod-replicas.expires: expected a date, found a date-time (write only the day: YYYY-MM-DD)
            19:11 [type] exceptions.default-deny-egress.expires: expected date, found integer
        "#,
    );
}

#[test]
fn invalid_unset() {
    check(
        r#"
[engine]
name = "golang"

[env]
LOG_LEVEL = "info"

[routes.public]
host = "a.example.com"

[envs.prod]
unset = ["env.LOG_LEVL", "routes.private", "name", 5, "routes.public.host.x"]

[envs.dev]
unset = "env"
"#,
        r#"
            12:10 [invalid-unset] envs.prod.unset[0]: `env.LOG_LEVL` names nothing in the base of the file (did you mean `env.LOG_LEVEL`?)
            12:26 [invalid-unset] envs.prod.unset[1]: `routes.private` names nothing in the base of the file (`unset` removes a key set at the top level of the file)
            12:44 [invalid-unset] envs.prod.unset[2]: `name` cannot be unset
            12:52 [type] envs.prod.unset[3]: expected string, found integer (quote it: `"5"`)
            12:55 [invalid-unset] envs.prod.unset[4]: `routes.public.host.x` names nothing in the base of the file (did you mean `routes.public.host`?)
            15:9 [type] envs.dev.unset: expected array, found string
        "#,
    );
}

/// Text from the file that holds a control character (a `\n` escape in a
/// quoted key or string) is written escaped: one problem stays one line.
#[test]
fn control_characters_from_the_file_are_escaped() {
    check(
        r#"
[engine]
name = "golang"

[env]
"LOG\tLEVEL" = "info"

[envs.prod]
unset = ["en\nv.LOG_LEVEL"]
"#,
        r#"
            6:1 [invalid-name] env."LOG\tLEVEL": variable name `LOG\tLEVEL` contains character '\t', only letters, digits and '_' are allowed (did you mean `LOG_LEVEL`?)
            9:10 [invalid-unset] envs.prod.unset[0]: `en\nv.LOG_LEVEL` names nothing in the base of the file (did you mean `env.LOG\tLEVEL`?)
        "#,
    );
}

#[test]
fn generic_engine_and_image() {
    check(
        r#"
[engine]
name = "generic"

[envs.prod.engine]
name = "golang"
image = "registry.example.com/x/y:1"
"#,
        r#"
            3:8 [invalid] engine.name: engine `generic` needs an `image` when resolved for `staging`, `dev` and `local` (add `image = "registry.example.com/team/app:1.0"` under `[engine]`)
            7:9 [invalid] envs.prod.engine.image: `image` is only allowed with engine `generic`, not `golang` when resolved for `prod` (remove it: the platform provides the image for `golang`)
        "#,
    );
    check(
        "[engine]\nname = \"generic\"\nimage = \"registry.example.com/x/y:1\"\n",
        "",
    );
}

#[test]
fn autoscale_max_below_min() {
    check(
        r#"
[engine]
name = "golang"

[autoscale]
min = 5
max = 3
cpu_percent = 50

[envs.prod.autoscale]
max = 10

[envs.dev.autoscale]
min = 20
"#,
        r#"
            7:7 [invalid] autoscale.max: autoscale max (3) is less than min (5) when resolved for `staging` and `local`
            14:7 [invalid] envs.dev.autoscale.min: autoscale max (3) is less than min (20) when resolved for `dev`
        "#,
    );
}

#[test]
fn other_invalid_values() {
    check(
        r#"
[engine]
name = "golang"
version = ""

[health]
liveness = "healthz"

[routes.api]
host = "api.example.com"
path = "v1"

[processes.w]
command = []

[jobs.j]
schedule = "@daily"
command = ["./j", 1]

[deploy]
canary_steps = [5, 50, 25]

[envs.prod.deploy]
canary_steps = []
"#,
        r#"
            4:11 [invalid] engine.version: version must not be empty
            7:12 [invalid] health.liveness: path `healthz` must start with '/' (did you mean `/healthz`?)
            11:8 [invalid] routes.api.path: path `v1` must start with '/' (did you mean `/v1`?)
            14:11 [invalid] processes.w.command: command must not be empty (write the program and its arguments, e.g. `["./app", "worker"]`)
            18:19 [type] jobs.j.command[1]: expected string, found integer (quote it: `"1"`)
            21:24 [invalid] deploy.canary_steps[2]: canary steps must increase strictly, but 25 follows 50
            24:16 [invalid] envs.prod.deploy.canary_steps: canary_steps must not be empty (for example `[5, 25, 50]`)
        "#,
    );
}

#[test]
fn every_problem_at_once_in_source_order() {
    // Problems from the per-layer checks and the merged checks interleave
    // by position; identical merged findings appear once.
    check(
        r#"
name = "svc"
replicas = 2000

[engine]
name = "pyhton"

[dependencies.svc]

[envs.prod]
replicas = "70"

[envs.prod.engine]
name = "golang"
"#,
        r#"
            3:12 [range] replicas: 2000 is out of range: expected 0 to 1000
            6:8 [unknown-engine] engine.name: unknown engine `pyhton` (did you mean `python`?)
            8:15 [self-dependency] dependencies.svc: service `svc` depends on itself (remove `[dependencies.svc]`)
            11:12 [type] envs.prod.replicas: expected integer, found string (remove the quotes: `70`)
        "#,
    );
}
