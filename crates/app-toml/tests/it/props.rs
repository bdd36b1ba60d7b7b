//! scratch
#[test]
fn dump() {
    let dir = std::path::Path::new("/tmp/cases");
    let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        let bytes = std::fs::read(&p).unwrap();
        println!("=== {}", p.display());
        match crate::parse_with(&bytes, Some("svc")) {
            Ok(_) => println!("OK"),
            Err(app_toml::Error::Invalid(d)) => { println!("{}", crate::summary(&d.items)); if std::env::var_os("RENDER").is_some() { println!("{}", d.render(false)); } }
            Err(e) => println!("{e}"),
        }
    }
}
