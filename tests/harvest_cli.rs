//! `arkiv harvest`, as an operator runs it: one repository served by the
//! real binary, another harvesting it from the shell, then again (nothing
//! new), then from `[[harvest.sources]]` in its arkiv.toml; and the clear
//! refusals of a command that cannot start.

mod common;

use common::*;

#[test]
fn an_operator_harvests_one_arkiv_into_another() {
    let dir = tempfile::tempdir().unwrap();
    let source = init_repo(&dir.path().join("source"));
    let out = arkiv(&source, &["import", "eprints-xml", seed_xml().to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = arkiv(&source, &["generate", "--count", "30", "--seed", "7"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let served = serve(&source);
    let url = format!("http://{}/oai2", served.addr);

    let target = init_repo(&dir.path().join("target"));
    let out = arkiv(&target, &["harvest", &url, "--prefix", "ep3", "--name", "partner"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("partner: 31 created, 0 updated"), "{}", stdout(&out));
    let (status, body) = page(served.addr, "/oai2?verb=Identify");
    assert!(status.contains("200"), "{status}");
    drop(body);

    // Again: only what changed since the first run began, so nothing.
    let out = arkiv(&target, &["harvest", &url, "--prefix", "ep3", "--name", "partner"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("partner: 0 created, 0 updated"), "{}", stdout(&out));
    assert!(stdout(&out).contains("asked for records changed from"), "{}", stdout(&out));

    // The configured sources, by name; a name not configured is refused.
    let config = target.join("arkiv.toml");
    let text = std::fs::read_to_string(&config).unwrap().replace("\nretries = 5\n", "\nretries = 0\n").replace(
        "\n# Item types beyond",
        &format!(
            "\n[[harvest.sources]]\nname = \"nightly\"\nurl = \"{url}\"\nprefix = \"oai_dc\"\n\n# Item types beyond"
        ),
    );
    std::fs::write(&config, text).unwrap();
    let out = arkiv(&target, &["harvest"]);
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("nightly: 31 created"), "a source of its own: {}", stdout(&out));
    let out = arkiv(&target, &["harvest", "--name", "weekly"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no [[harvest.sources]] is named \"weekly\""), "{}", stderr(&out));

    // A source that is not there: the run stops with the reason, status 3.
    let out = arkiv(&target, &["harvest", "http://127.0.0.1:9/oai2", "--name", "gone"]);
    assert_eq!(out.status.code(), Some(3), "{}{}", stdout(&out), stderr(&out));
    assert!(stdout(&out).contains("stopped early") && stdout(&out).contains("could not reach"), "{}", stdout(&out));
    let out = arkiv(&target, &["harvest", "ftp://example.org/oai", "--name", "ftp"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("not an OAI-PMH base URL"), "{}", stderr(&out));
}
