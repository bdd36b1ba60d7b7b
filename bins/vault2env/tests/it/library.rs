//! The library against the test servers: resolution by name through a
//! loopback DNS server and through the hosts file, read via [`MapHost`].

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use vault_testserver::{DnsServer, TestVault};
use vault2env::config::{Address, Config, KvVersion};
use vault2env::host::MapHost;
use vault2env::http::Client;
use vault2env::plan;
use vault2env::resolve::{ResolveError, Resolver};
use vault2env::vault::Vault;

fn server() -> TestVault {
    TestVault::builder()
        .kv("secret", 2)
        .put("secret", "billing", &[("DB_PASSWORD", "lib-secret-1")])
        .token("s.lib-token-abcdef", &vault_testserver::DEMO_POLICY)
        .start()
}

fn host_for(addr: &str) -> MapHost {
    MapHost::new()
        .with_var("VAULT_ADDR", addr)
        .with_var("VAULT2ENV_NAMESPACE", "billing")
        .with_var("VAULT2ENV_AUTH", "token")
        .with_var("VAULT_TOKEN", "s.lib-token-abcdef")
}

#[test]
fn resolves_vault_by_name_over_dns_with_search_domains() {
    let srv = server();
    let dns = DnsServer::start(&[(
        "vault.vault.svc.cluster.local",
        IpAddr::V4(Ipv4Addr::LOCALHOST),
    )]);
    let mut resolver = Resolver::from_resolv_conf(
        "nameserver 127.0.0.1\nsearch billing.svc.cluster.local svc.cluster.local cluster.local\noptions ndots:5 timeout:1\n",
    );
    resolver.nameservers = vec![dns.addr()];
    let deadline = Instant::now() + Duration::from_secs(5);
    let ips = resolver
        .resolve("vault.vault", deadline)
        .expect("resolved by name");
    assert_eq!(ips, [IpAddr::V4(Ipv4Addr::LOCALHOST)]);
    assert!(dns.queries() >= 2, "search list tried in order");
    assert_eq!(
        resolver.resolve("missing.example", deadline),
        Err(ResolveError::NotFound)
    );

    // The whole read through the resolved address, by name.
    let url = format!("http://vault.vault:{}", srv.addr().port());
    let host = host_for(&url);
    let cfg = Config::from_host(&host).expect("config");
    let mut vault = Vault::new(
        Client::new(Address::parse(&url).expect("addr"), ips, None),
        deadline,
    );
    vault.login(&cfg.auth).expect("token");
    assert_eq!(vault.kv_version("secret").expect("version"), KvVersion::V2);
    let fetched = plan::fetch(&mut vault, &host, &cfg).expect("fetch");
    assert_eq!(fetched.secrets.len(), 1);
    assert_eq!(fetched.secrets[0].name, "DB_PASSWORD");
    assert_eq!(fetched.secrets[0].value.expose(), "lib-secret-1");
    assert!(
        !format!("{fetched:?}").contains("lib-secret-1"),
        "Debug hides values"
    );
}

#[test]
fn resolves_through_the_hosts_file_of_the_host() {
    let srv = server();
    let url = format!("http://vault.internal:{}", srv.addr().port());
    let host = host_for(&url).with_file("/etc/hosts", "# test\n127.0.0.1 vault.internal\n");
    let cfg = Config::from_host(&host).expect("config");
    let (_vault, fetched) = plan::prepare(&host, &cfg, Instant::now()).expect("prepared");
    assert_eq!(fetched.secrets[0].value.expose(), "lib-secret-1");

    // Unknown name, no nameserver answering: unreachable within the deadline (69).
    let url = format!("http://nowhere.invalid:{}", srv.addr().port());
    let host = host_for(&url)
        .with_var("VAULT2ENV_TIMEOUT", "300ms")
        .with_file(
            "/etc/resolv.conf",
            "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
        );
    let cfg = Config::from_host(&host).expect("config");
    let err = plan::prepare(&host, &cfg, Instant::now()).expect_err("unresolvable");
    assert_eq!(err.exit_code(), 69, "{err}");
}
