//! `docs/rules.md` is generated from the registry; this test keeps it in sync
//! (`UPDATE_GOLDEN=1` rewrites it).

use std::path::Path;

#[test]
fn rules_reference_is_up_to_date() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules.md");
    let generated = netcheck::diagnose::docs::rules_markdown();
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == generated,
        "docs/rules.md is stale: run `UPDATE_GOLDEN=1 cargo test --test diagnose_docs`"
    );
}

#[test]
fn every_rule_is_documented() {
    let generated = netcheck::diagnose::docs::rules_markdown();
    for rule in netcheck::diagnose::registry::RULES {
        assert!(
            generated.contains(&format!("# `{}` (", rule.id)),
            "{}",
            rule.id
        );
    }
}
