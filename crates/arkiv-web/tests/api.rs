//! The REST API over real HTTP: personal API tokens made and revoked on
//! `/profile`, `Authorization: Bearer`, records created, read, changed and
//! submitted through the same workflow as the deposit form, optimistic
//! concurrency (ETag and If-Match), and every refusal as problem+json.

mod common;

use arkiv_services::accounts::api_tokens;
use arkiv_storage::ApiTokenRow;
use common::*;
use reqwest::{RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};

/// Makes a token on the profile page as `cookies`'s user would: the page
/// that answers shows it once.
async fn make_token(site: &Site, cookies: &str, name: &str, scopes: &[&str]) -> Response {
    let page = site.get("/profile", cookies).await.text().await.unwrap();
    assert!(page.contains("API tokens"), "the profile offers tokens");
    let csrf = csrf_field(&page);
    let mut form = vec![("csrf", csrf.as_str()), ("name", name), ("days", "30")];
    form.extend(scopes.iter().map(|s| ("scope", *s)));
    site.post("/profile/tokens", cookies, &form).await
}

async fn token(site: &Site, cookies: &str, name: &str, scopes: &[&str]) -> String {
    let res = make_token(site, cookies, name, scopes).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let page = res.text().await.unwrap();
    let at = page.find("value=\"arkiv_").expect("the new token is shown") + 7;
    page[at..].split('"').next().unwrap().to_string()
}

fn bearer(req: RequestBuilder, token: &str) -> RequestBuilder {
    req.header("authorization", format!("Bearer {token}"))
}

/// A problem+json answer's status and body.
async fn problem(res: Response) -> (StatusCode, Value) {
    let status = res.status();
    let ct = res.headers().get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let body = res.text().await.unwrap();
    assert_eq!(ct, "application/problem+json", "{status}: {body}");
    let v: Value = serde_json::from_str(&body).unwrap_or_else(|_| panic!("JSON: {body}"));
    assert_eq!(v["status"], status.as_u16(), "{body}");
    (status, v)
}

fn etag(res: &Response) -> String {
    res.headers().get("etag").expect("an ETag").to_str().unwrap().to_string()
}

#[tokio::test]
async fn a_script_deposits_through_the_api_under_the_forms_rules() {
    let site = start(Default::default()).await;
    let depositor = site.session("depositor@example.org").await;
    let api = |path: &str| site.url(path);

    // Scopes a depositor's role does not allow are refused.
    let res = make_token(&site, &depositor, "too much", &["read", "edit"]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().await.unwrap().contains("does not allow the scope edit"));
    let writer = token(&site, &depositor, "CRIS sync", &["read", "deposit"]).await;
    let reader = token(&site, &depositor, "read only", &["read"]).await;
    let page = site.get("/profile", &depositor).await.text().await.unwrap();
    assert!(page.contains("CRIS sync") && page.contains("read, deposit"), "listed");
    assert!(!page.contains(&writer), "a token is shown once, never again");

    let me: Value = bearer(site.client.get(api("/api/me")), &writer).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["role"], "depositor");
    assert_eq!(me["via"], "token");
    assert_eq!(me["scopes"], json!(["read", "deposit"]));

    // Create: the form's fields by name; 201 with its address and ETag.
    let create = |token: &str, body: Value| {
        bearer(site.client.post(api("/api/records")), token)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    let paper = json!({ "item_type": "policy_paper", "fields": {
        "title": "Machines deposit too", "creators": "Kowalska, Anna", "date": "2026-11" } });
    let res = create(&writer, paper.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let location = res.headers()["location"].to_str().unwrap().to_string();
    assert_eq!(etag(&res), "\"r1\"");
    let made: Value = res.json().await.unwrap();
    let id = made["id"].as_i64().unwrap();
    assert_eq!(location, format!("/api/records/{id}"));
    assert_eq!(made["status"], "inbox");
    assert_eq!(made["record"]["title"], "Machines deposit too");

    // Refused, each a problem and nothing written.
    let before = site.repo.store.max_record_id().await.unwrap();
    let (s, p) = problem(create(&reader, paper.clone()).await.unwrap()).await;
    assert_eq!((s, p["required_scope"].clone()), (StatusCode::FORBIDDEN, json!("deposit")));
    let (s, p) = problem(
        create(&writer, json!({ "item_type": "policy_paper", "fields": { "date": "2026-02-30" } })).await.unwrap(),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(p["errors"][0]["field"], "date", "{p}");
    let (s, _) = problem(create(&writer, json!({ "item_type": "banana" })).await.unwrap()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = problem(create(&writer, json!({ "item_type": "report", "colour": "red" })).await.unwrap()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "unknown members are refused, not ignored");
    let res = bearer(site.client.post(api("/api/records")), &writer)
        .header("content-type", "application/json")
        .body("{\"item_type\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res).await.0, StatusCode::BAD_REQUEST);
    let res = bearer(site.client.post(api("/api/records")), &writer).body(paper.to_string()).send().await.unwrap();
    assert_eq!(problem(res).await.0, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    // A cookie alone may read but never write: another site's page could send it.
    let res = site
        .client
        .post(api("/api/records"))
        .header("cookie", &depositor)
        .header("content-type", "application/json")
        .body(paper.to_string())
        .send()
        .await
        .unwrap();
    let (s, _) = problem(res).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(site.repo.store.max_record_id().await.unwrap(), before, "nothing half-written");

    // Who sees the draft: its depositor (token or session), not the public
    // nor another depositor.
    let get = |token: Option<&str>, cookies: &str| {
        let req = site.client.get(api(&location)).header("cookie", cookies);
        match token {
            Some(t) => bearer(req, t).send(),
            None => req.send(),
        }
    };
    assert_eq!(get(Some(&reader), "").await.unwrap().status(), StatusCode::OK);
    assert_eq!(get(None, &depositor).await.unwrap().status(), StatusCode::OK);
    assert_eq!(problem(get(None, "").await.unwrap()).await.0, StatusCode::NOT_FOUND);
    let other = site.session("other@example.org").await;
    let others = token(&site, &other, "mine", &["read", "deposit"]).await;
    assert_eq!(problem(get(Some(&others), "").await.unwrap()).await.0, StatusCode::NOT_FOUND);

    // Update: If-Match required; a stale one is 412 with the revision now.
    let put = |token: &str, if_match: Option<&str>, body: Value| {
        let mut req = bearer(site.client.put(api(&location)), token).header("content-type", "application/json");
        if let Some(m) = if_match {
            req = req.header("if-match", m);
        }
        req.body(body.to_string()).send()
    };
    let series = json!({ "fields": { "series": "OSW Commentary", "number": "137" } });
    assert_eq!(problem(put(&writer, None, series.clone()).await.unwrap()).await.0, StatusCode::PRECONDITION_REQUIRED);
    let (s, p) = problem(put(&writer, Some("\"r0\""), series.clone()).await.unwrap()).await;
    assert_eq!((s, p["current_revision"].clone()), (StatusCode::PRECONDITION_FAILED, json!(1)));
    let (s, _) = problem(put(&others, Some("\"r1\""), series.clone()).await.unwrap()).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "another depositor's token needs the edit scope");
    let res = put(&writer, Some("\"r1\""), series).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(etag(&res), "\"r2\"");

    // Submit: the form's completeness rule, then the review buffer.
    let submit =
        |m: &str| bearer(site.client.post(api(&format!("{location}/submit"))), &writer).header("if-match", m).send();
    let (s, p) = problem(submit("\"r2\"").await.unwrap()).await;
    assert_eq!(
        (s, p["missing"].clone()),
        (StatusCode::UNPROCESSABLE_ENTITY, json!(["the institution", "a document (the full text)"]))
    );
    let res = put(&writer, Some("\"r2\""), json!({ "fields": { "institution": "OSW" } })).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    // The full text: the body is the file, streamed; too large is refused
    // from its Content-Length before a byte is stored.
    let upload = |m: &str, body: Vec<u8>| {
        bearer(site.client.post(api(&format!("{location}/documents?filename=commentary.pdf&license=cc_by"))), &writer)
            .header("if-match", m)
            .header("content-type", "application/pdf")
            .body(body)
            .send()
    };
    let huge = site.repo.config.import.max_file_bytes + 1;
    let res = bearer(site.client.post(api(&format!("{location}/documents?filename=big.pdf"))), &writer)
        .header("if-match", "\"r3\"")
        .header("content-length", huge.to_string())
        .body("%PDF-1.4")
        .send()
        .await;
    // The server may answer before reading the body, and close.
    if let Ok(res) = res {
        assert_eq!(problem(res).await.0, StatusCode::PAYLOAD_TOO_LARGE);
    }
    assert_eq!(problem(upload("\"r3\"", Vec::new()).await.unwrap()).await.0, StatusCode::UNPROCESSABLE_ENTITY, "empty");
    let pdf = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n".to_vec();
    let res = upload("\"r3\"", pdf.clone()).await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    assert_eq!(etag(&res), "\"r4\"");
    let with_file: Value = res.json().await.unwrap();
    assert_eq!(with_file["document"], 1);
    assert_eq!(with_file["record"]["documents"][0]["files"][0]["size"], pdf.len());
    // A second document: its settings changed, then taken off again.
    assert_eq!(upload("\"r4\"", pdf.clone()).await.unwrap().status(), StatusCode::CREATED);
    let document = |method: reqwest::Method, m: &str| {
        bearer(site.client.request(method, api(&format!("{location}/documents/2"))), &writer).header("if-match", m)
    };
    let settings = |m: &str, body: Value| {
        document(reqwest::Method::PUT, m).header("content-type", "application/json").body(body.to_string()).send()
    };
    let res = settings("\"r5\"", json!({ "security": "nobody" })).await.unwrap();
    assert_eq!(problem(res).await.0, StatusCode::UNPROCESSABLE_ENTITY, "an access level that is none");
    let res = settings("\"r5\"", json!({ "security": "staffonly", "embargo": "2030-01-01" })).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(etag(&res), "\"r6\"");
    let changed: Value = res.json().await.unwrap();
    assert_eq!(changed["record"]["documents"][1]["security"], "staffonly");
    assert_eq!(changed["record"]["documents"][1]["embargo"], "2030-01-01");
    let res = document(reqwest::Method::DELETE, "\"r5\"").send().await.unwrap();
    assert_eq!(problem(res).await.0, StatusCode::PRECONDITION_FAILED, "a stale ETag changes nothing");
    let res = document(reqwest::Method::DELETE, "\"r6\"").send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let fewer: Value = res.json().await.unwrap();
    assert_eq!(fewer["record"]["documents"].as_array().unwrap().len(), 1);
    let res = document(reqwest::Method::DELETE, "\"r7\"").send().await.unwrap();
    assert_eq!(problem(res).await.0, StatusCode::NOT_FOUND, "no document 2 any more");
    let res = submit("\"r7\"").await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let done: Value = res.json().await.unwrap();
    assert_eq!(done["status"], "buffer");
    // Every write is the token's user's in the revision history.
    let user = site.repo.accounts.user_by_email("depositor@example.org").await.unwrap().unwrap();
    let (_, history) = arkiv_services::workflow::Workflow::new(&site.repo, &user).history(id).await.unwrap();
    assert_eq!(history.len(), 8);
    assert!(
        history.iter().all(|h| h.actor == "The depositor"),
        "{:?}",
        history.iter().map(|h| &h.actor).collect::<Vec<_>>()
    );

    // Review through the API: an editor's token with the edit scope.
    let editor = site.session("editor@example.org").await;
    let reviewer = token(&site, &editor, "review bot", &["read", "edit"]).await;
    let step = |token: &str, step: &str, m: &str, body: Value| {
        bearer(site.client.post(api(&format!("{location}/{step}"))), token)
            .header("if-match", m)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    let (s, p) = problem(step(&writer, "accept", "\"r8\"", json!({})).await.unwrap()).await;
    assert_eq!((s, p["required_scope"].clone()), (StatusCode::FORBIDDEN, json!("edit")), "a depositor cannot accept");
    assert_eq!(problem(step(&reviewer, "publish", "\"r8\"", json!({})).await.unwrap()).await.0, StatusCode::NOT_FOUND);
    let res = step(&reviewer, "accept", "\"r8\"", json!({})).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.json::<Value>().await.unwrap()["status"], "archive");
    assert_eq!(site.get(&location, "").await.status(), StatusCode::OK, "live: the public reads it");
    let (s, p) = problem(step(&reviewer, "withdraw", "\"r9\"", json!({ "reason": " " })).await.unwrap()).await;
    assert_eq!((s, p["errors"][0]["field"].clone()), (StatusCode::UNPROCESSABLE_ENTITY, json!("reason")));
    let res = step(&reviewer, "withdraw", "\"r9\"", json!({ "reason": "Published twice by mistake." })).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let (s, p) = problem(site.get(&location, "").await).await;
    assert_eq!((s, p["withdrawn_reason"].clone()), (StatusCode::GONE, json!("Published twice by mistake.")));
    assert_eq!(step(&reviewer, "restore", "\"r10\"", json!({})).await.unwrap().status(), StatusCode::OK);
    // A new version of the live record, in the depositor's workarea.
    let res = bearer(site.client.post(api(&format!("{location}/new-version"))), &writer).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let next: Value = res.json().await.unwrap();
    assert_eq!((next["status"].clone(), next["record"]["succeeds"].clone()), (json!("inbox"), json!(id)));

    // A draft given up: deleted whole, with If-Match, by its depositor only.
    let res = create(&writer, json!({ "item_type": "report", "fields": { "title": "Given up" } })).await.unwrap();
    let gone = res.headers()["location"].to_str().unwrap().to_string();
    let delete = |token: &str, m: Option<&str>| {
        let mut req = bearer(site.client.delete(api(&gone)), token);
        if let Some(m) = m {
            req = req.header("if-match", m);
        }
        req.send()
    };
    assert_eq!(problem(delete(&writer, None).await.unwrap()).await.0, StatusCode::PRECONDITION_REQUIRED);
    assert_eq!(problem(delete(&writer, Some("\"r0\"")).await.unwrap()).await.0, StatusCode::PRECONDITION_FAILED);
    assert_eq!(problem(delete(&others, Some("\"r1\"")).await.unwrap()).await.0, StatusCode::FORBIDDEN);
    assert_eq!(delete(&writer, Some("\"r1\"")).await.unwrap().status(), StatusCode::NO_CONTENT);
    assert_eq!(
        problem(bearer(site.client.get(api(&gone)), &writer).send().await.unwrap()).await.0,
        StatusCode::NOT_FOUND
    );
    // A record that was live is never deleted: it is withdrawn.
    let res = bearer(site.client.delete(api(&location)), &reviewer).header("if-match", "\"r11\"").send().await.unwrap();
    assert_eq!(problem(res).await.0, StatusCode::UNPROCESSABLE_ENTITY);

    // Revoked on the profile: refused at once, saying why.
    let page = site.get("/profile", &depositor).await.text().await.unwrap();
    let row = page.find("CRIS sync").unwrap();
    let id_at = page[row..].find("name=\"id\" value=\"").unwrap() + row + 17;
    let token_id = page[id_at..].split('"').next().unwrap().to_string();
    let res = site.post("/profile/tokens/revoke", &depositor, &[("csrf", &csrf_field(&page)), ("id", &token_id)]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = bearer(site.client.get(api("/api/me")), &writer).send().await.unwrap();
    assert!(res.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));
    let (s, p) = problem(res).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(p["detail"].as_str().unwrap().contains("revoked"), "{p}");
    // Another user's token cannot be revoked by guessing its id.
    let page = site.get("/profile", &other).await.text().await.unwrap();
    let res = site.post("/profile/tokens/revoke", &other, &[("csrf", &csrf_field(&page)), ("id", &token_id)]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Expired, unknown and malformed tokens.
    let expired = format!("{}{}", api_tokens::TOKEN_PREFIX, "e".repeat(64));
    site.repo
        .accounts
        .create_api_token(&ApiTokenRow {
            id: 0,
            user_id: user.id,
            name: "old".into(),
            token_hash: arkiv_services::accounts::tokens::session_hash(&expired),
            scopes: "read deposit".into(),
            created: arkiv_model::Timestamp(1),
            expires: arkiv_model::Timestamp(2),
            last_used: None,
            revoked: None,
        })
        .await
        .unwrap();
    for (sent, why) in [
        (format!("Bearer {expired}"), "expired"),
        (format!("Bearer {}{}", api_tokens::TOKEN_PREFIX, "0".repeat(64)), "not known"),
        ("Bearer x".to_string(), "not known"),
        ("Basic ZGVwb3NpdG9yOng=".to_string(), "Bearer"),
    ] {
        let res = site.client.get(api("/api/me")).header("authorization", &sent).send().await.unwrap();
        let (s, p) = problem(res).await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "{sent}");
        assert!(p["detail"].as_str().unwrap().contains(why), "{sent}: {p}");
    }

    // The API's own 404 and 405 are problems too, never an HTML page.
    assert_eq!(problem(site.get("/api/no-such-thing", "").await).await.0, StatusCode::NOT_FOUND);
    let res = site.client.delete(api("/api/me")).send().await.unwrap();
    assert_eq!(problem(res).await.0, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(problem(site.get("/api/records/banana", "").await).await.0, StatusCode::NOT_FOUND);
    // The list: every record ever live, a page at a time by keyset.
    let list = |q: &str| site.client.get(api(&format!("/api/records{q}"))).send();
    let first: Value = list("?limit=1").await.unwrap().json().await.unwrap();
    assert_eq!(first["records"].as_array().unwrap().len(), 1);
    assert_eq!(first["records"][0]["id"], site.live);
    let next = first["next"].as_str().expect("a next page").to_string();
    let second: Value = site.get(&next, "").await.json().await.unwrap();
    assert_eq!(second["records"][0]["id"], id, "the deposited record, live again");
    assert_eq!(second["records"][0]["record"]["title"], "Machines deposit too");
    assert!(second["next"].is_null(), "{second}");
    let later: Value = list("?modified_since=2999-01-01").await.unwrap().json().await.unwrap();
    assert_eq!(later["records"], json!([]));
    for bad in ["?limit=0", "?limit=201", "?cursor=x", "?modified_since=yesterday", "?q=1"] {
        assert_eq!(problem(list(bad).await.unwrap()).await.0, StatusCode::BAD_REQUEST, "{bad}");
    }

    // The public reads a live record, without what only staff see.
    let res = site.get(&format!("/api/records/{}", site.live), "").await;
    assert_eq!(res.status(), StatusCode::OK);
    let live: Value = res.json().await.unwrap();
    assert_eq!(live["record"]["title"], "A live paper");
}

/// `[api] requests_per_minute`: each token's own allowance, counted in the
/// database; past it 429 with Retry-After, and another token goes on.
#[tokio::test]
async fn a_token_past_its_minute_gets_429_with_retry_after() {
    let config = arkiv_services::Config {
        api: arkiv_services::config::ApiSettings { requests_per_minute: 3 },
        ..Default::default()
    };
    let site = start_with(config).await;
    let depositor = site.session("depositor@example.org").await;
    let busy = token(&site, &depositor, "busy", &["read"]).await;
    let calm = token(&site, &depositor, "calm", &["read"]).await;
    let me = |t: &str| bearer(site.client.get(site.url("/api/me")), t).send();
    for _ in 0..3 {
        assert_eq!(me(&busy).await.unwrap().status(), StatusCode::OK);
    }
    let res = me(&busy).await.unwrap();
    let wait: i64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let (s, p) = problem(res).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert!(p["detail"].as_str().unwrap().contains("3 requests of the minute"), "{p}");
    assert_eq!(me(&calm).await.unwrap().status(), StatusCode::OK, "another token is not slowed");
}

/// The OpenAPI document is served and says what the API does; schemathesis
/// (PyPI) then sends generated requests, valid and not, to every operation
/// with a depositor's token: no server error, and every answer matches the
/// document (its schema and its content type).
#[tokio::test]
async fn schemathesis_finds_no_server_error_and_no_answer_off_the_document() {
    let site = start(Default::default()).await;
    let res = site.get("/api/openapi.json", "").await;
    assert_eq!(res.status(), StatusCode::OK);
    let doc: Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    for path in [
        "/api/me",
        "/api/records",
        "/api/records/{id}",
        "/api/records/{id}/documents",
        "/api/records/{id}/documents/{pos}",
        "/api/records/{id}/{step}",
        "/api/records/{id}/new-version",
        "/api/subjects",
        "/api/search",
        "/api/users",
        "/api/users/{id}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    assert_eq!(doc["components"]["securitySchemes"]["bearer"]["scheme"], "bearer");
    assert_eq!(doc["components"]["schemas"]["RecordBody"]["additionalProperties"], false);
    // And as a page for people, rendered here: no script.
    let res = site.get("/api/docs", "").await;
    assert_eq!(res.status(), StatusCode::OK);
    let page = res.text().await.unwrap();
    for seen in ["<code>POST /api/records</code>", "Needs a personal API token.", "<code>If-Match</code>", "RecordBody"]
    {
        assert!(page.contains(seen), "{seen} on /api/docs");
    }
    assert!(!page.contains("<script"), "no script");

    let depositor = site.session("depositor@example.org").await;
    let writer = token(&site, &depositor, "schemathesis", &["read", "deposit"]).await;
    let Some(python) = arkiv_testkit::checkers::python() else { return };
    let cli = python.with_file_name("schemathesis");
    if !cli.exists() {
        arkiv_testkit::skip("schemathesis (run scripts/tools.sh)");
        return;
    }
    // A draft of the token's user, so that the operations on one record
    // reach their rules rather than a 404.
    let res = bearer(site.client.post(site.url("/api/records")), &writer)
        .header("content-type", "application/json")
        .body(json!({ "item_type": "report", "fields": { "title": "Fuzzed" } }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let draft = res.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("schemathesis.toml");
    std::fs::write(&config, format!("[parameters]\n\"path.id\" = {draft}\n")).unwrap();
    let schema = site.url("/api/openapi.json");
    let base = site.base.clone();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(cli)
            .current_dir(dir.path())
            .arg("--config-file")
            .arg(&config)
            .args(["run", &schema, "--url", &base])
            .args(["--header", &format!("Authorization: Bearer {writer}")])
            .args(["--checks", "not_a_server_error,response_schema_conformance,content_type_conformance"])
            .args(["--max-examples", "30", "--seed", "1", "--no-color", "--workers", "1"])
            .args(["--suppress-health-check", "all"])
            .output()
            .expect("schemathesis runs")
    })
    .await
    .unwrap();
    let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "schemathesis failed:\n{said}");
    assert!(said.contains("/api/records/{id}/documents"), "schemathesis ran every operation: {said}");
    assert!(said.contains("Tested: 16"), "all sixteen operations: {said}");
}

/// Every API operation on a record × every kind of caller × every status:
/// the API answers as the one permission table (`workflow::may`) and the
/// token's scopes say, and an allowed step really happens. Callers hold
/// every scope their role allows.
#[tokio::test]
async fn every_api_operation_for_every_caller_and_status() {
    use arkiv_model::{Record, Status};
    use arkiv_services::workflow::{may, permissions::in_scope, Action};
    use arkiv_storage::RecordWrite;
    let site = start(Default::default()).await;
    let who = [
        None,
        Some("depositor@example.org"),
        Some("other@example.org"),
        Some("editor@example.org"),
        Some("admin@example.org"),
    ];
    let mut callers = Vec::new();
    for email in who {
        callers.push(match email {
            None => None,
            Some(e) => {
                let user = site.repo.accounts.user_by_email(e).await.unwrap().unwrap();
                let scopes: Vec<&str> = api_tokens::Scope::ALL
                    .into_iter()
                    .filter(|s| s.allowed_to(user.role))
                    .map(api_tokens::Scope::as_str)
                    .collect();
                let session = site.session(e).await;
                Some((user, token(&site, &session, "matrix", &scopes).await))
            }
        });
    }
    let owner = callers[1].as_ref().unwrap().0.id;
    // (operation, method, path tail, the action it takes, body, success)
    let ops: [(&str, &str, &str, Action, Value, u16); 11] = [
        ("read", "GET", "", Action::View, json!(null), 200),
        ("change", "PUT", "", Action::Edit, json!({ "fields": { "note": "matrix" } }), 200),
        ("submit", "POST", "/submit", Action::Submit, json!({}), 200),
        ("accept", "POST", "/accept", Action::Accept, json!({}), 200),
        ("return", "POST", "/return", Action::Return, json!({ "note": "matrix" }), 200),
        ("withdraw", "POST", "/withdraw", Action::Withdraw, json!({ "reason": "matrix" }), 200),
        ("restore", "POST", "/restore", Action::Restore, json!({}), 200),
        ("new version", "POST", "/new-version", Action::NewVersion, json!(null), 201),
        ("delete", "DELETE", "", Action::DeleteDraft, json!(null), 204),
        ("set a document", "PUT", "/documents/1", Action::Edit, json!({ "security": "staffonly" }), 200),
        ("remove a document", "DELETE", "/documents/1", Action::Edit, json!(null), 200),
    ];
    let mut failures = Vec::new();
    for status in [Status::Inbox, Status::Buffer, Status::Archive, Status::Deletion] {
        for (op, method, tail, action, body, success) in &ops {
            for (c, caller) in callers.iter().enumerate() {
                // A complete record of the depositor's, fresh for each case.
                let mut r = Record::new("policy_paper", "The matrix paper");
                r.status = status;
                r.userid = Some(owner);
                r.creators = vec![arkiv_model::Creator::new("Kowalska", "Anna")];
                r.date = Some("2026-11".parse().unwrap());
                r.series = Some("OSW Commentary".into());
                r.number = Some("1".into());
                r.institution = Some("OSW".into());
                r.documents = vec![pdf_document(1, "paper.pdf", &"a".repeat(64), 10)];
                if status == Status::Deletion {
                    r.withdrawn_reason = Some("gone".into());
                }
                let id = site.repo.store.put_records(vec![RecordWrite::new(r.clone(), "test")]).await.unwrap()[0];
                r.id = Some(id);
                let url = site.url(&format!("/api/records/{id}{tail}"));
                let mut req = match *method {
                    "GET" => site.client.get(&url),
                    "PUT" => site.client.put(&url),
                    "DELETE" => site.client.delete(&url),
                    _ => site.client.post(&url),
                }
                .header("if-match", "\"r1\"");
                if !body.is_null() {
                    req = req.header("content-type", "application/json").body(body.to_string());
                }
                if let Some((_, t)) = caller {
                    req = bearer(req, t);
                }
                let got = req.send().await.unwrap().status().as_u16();
                let user = caller.as_ref().map(|(u, _)| u);
                let owns = user.is_some_and(|u| r.userid == Some(u.id));
                let staff = user.is_some_and(|u| in_scope(u, &r));
                let want = match (user, action) {
                    (_, Action::View) if status == Status::Archive => 200,
                    (Some(_), Action::View) if owns || staff => 200,
                    (_, Action::View) if status == Status::Deletion => 410,
                    (_, Action::View) => 404,
                    (None, _) => 401,
                    (Some(u), _) => {
                        let scope = if owns
                            && matches!(
                                action,
                                Action::Edit | Action::Submit | Action::NewVersion | Action::DeleteDraft
                            ) {
                            api_tokens::Scope::Deposit
                        } else {
                            api_tokens::Scope::Edit
                        };
                        if !scope.allowed_to(u.role) {
                            403
                        } else if !may(Some(u), Action::View, Some(&r)) {
                            404
                        } else if *action == Action::DeleteDraft && !may(Some(u), *action, Some(&r)) {
                            // A draft or a deposit not yet accepted goes; one
                            // who may change any other item is told why not.
                            if may(Some(u), Action::Edit, Some(&r)) {
                                422
                            } else {
                                403
                            }
                        } else if !may(Some(u), *action, Some(&r)) {
                            403
                        } else {
                            *success
                        }
                    }
                };
                if got != want {
                    failures.push(format!(
                        "{op} of a {status:?} record by {}: {got}, not {want}",
                        who[c].unwrap_or("anonymous")
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{} of 220 cases:\n{}", failures.len(), failures.join("\n"));
}

/// Users and roles through the API: admins only (the `admin` scope), the
/// `/admin` page's rules, and a disabled account's tokens stop at once.
#[tokio::test]
async fn admins_manage_users_and_roles_through_the_api() {
    let site = start(Default::default()).await;
    let admin_session = site.session("admin@example.org").await;
    let admin = token(&site, &admin_session, "admin", &["read", "admin"]).await;
    let editor_session = site.session("editor@example.org").await;
    let editor = token(&site, &editor_session, "ed", &["read", "deposit", "edit"]).await;
    let depositor_session = site.session("depositor@example.org").await;
    let depositor = token(&site, &depositor_session, "dep", &["read", "deposit"]).await;

    let (s, p) = problem(bearer(site.client.get(site.url("/api/users")), &editor).send().await.unwrap()).await;
    assert_eq!((s, p["required_scope"].clone()), (StatusCode::FORBIDDEN, json!("admin")));
    let users: Value =
        bearer(site.client.get(site.url("/api/users")), &admin).send().await.unwrap().json().await.unwrap();
    let find = |email: &str| users.as_array().unwrap().iter().find(|u| u["email"] == email).unwrap().clone();
    let other = find("other@example.org");
    assert_eq!(other["role"], "depositor");
    let put = |id: &Value, body: Value| {
        bearer(site.client.put(site.url(&format!("/api/users/{id}"))), &admin)
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
    };
    let res = put(&other["id"], json!({ "role": "editor", "scope": { "types": ["thesis"] } })).await.unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let changed: Value = res.json().await.unwrap();
    assert_eq!((changed["role"].clone(), changed["scope"]["types"].clone()), (json!("editor"), json!(["thesis"])));
    assert_eq!(
        problem(put(&other["id"], json!({ "role": "king" })).await.unwrap()).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    let me = find("admin@example.org");
    assert_eq!(
        problem(put(&me["id"], json!({ "role": "editor" })).await.unwrap()).await.0,
        StatusCode::UNPROCESSABLE_ENTITY,
        "not oneself"
    );
    assert_eq!(problem(put(&json!(999_999), json!({})).await.unwrap()).await.0, StatusCode::NOT_FOUND);
    // Disabled: the account's token is refused at once.
    let dep = find("depositor@example.org");
    assert_eq!(put(&dep["id"], json!({ "disabled": true })).await.unwrap().status(), StatusCode::OK);
    let (s, p) = problem(bearer(site.client.get(site.url("/api/me")), &depositor).send().await.unwrap()).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(p["detail"].as_str().unwrap().contains("cannot log in"), "{p}");
}

/// Files through the API, by the site's one access rule: every caller ×
/// document security (public, staff only, registered users, embargoed) ×
/// record status, as the route matrix of the site's own downloads has it.
#[tokio::test]
async fn documents_are_read_through_the_api_by_the_sites_one_rule() {
    use arkiv_model::{Document, DocumentSecurity, Record, Status, StoredFile};
    use arkiv_storage::RecordWrite;
    let site = start(Default::default()).await;
    let who = [
        None,
        Some("depositor@example.org"),
        Some("other@example.org"),
        Some("editor@example.org"),
        Some("admin@example.org"),
    ];
    let mut tokens = Vec::new();
    for email in who {
        tokens.push(match email {
            None => None,
            Some(e) => Some(token(&site, &site.session(e).await, "files", &["read"]).await),
        });
    }
    let owner = site.repo.accounts.user_by_email("depositor@example.org").await.unwrap().unwrap().id;
    let bytes = b"%PDF-1.4 the API's download".to_vec();
    let sha = site.repo.files.put(bytes::Bytes::from(bytes.clone())).await.unwrap();
    let record = |status: Status| {
        let doc = |pos: u32, security, embargo: Option<&str>| Document {
            pos,
            security,
            embargo: embargo.map(|e| e.parse().unwrap()),
            main: Some("f.pdf".into()),
            mime_type: Some("application/pdf".into()),
            files: vec![StoredFile {
                filename: "f.pdf".into(),
                size: bytes.len() as u64,
                sha256: Some(sha.clone()),
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut r = Record::new("report", "Files of the matrix");
        r.status = status;
        r.userid = Some(owner);
        r.withdrawn_reason = (status == Status::Deletion).then(|| "gone".to_string());
        r.documents = vec![
            doc(1, DocumentSecurity::Public, None),
            doc(2, DocumentSecurity::Staffonly, None),
            doc(3, DocumentSecurity::Validuser, None),
            doc(4, DocumentSecurity::Public, Some("2999-01-01")),
        ];
        r
    };
    // (status, document, per caller: anonymous, depositor, another depositor, editor, admin)
    let cases: [(Status, u32, [u16; 5]); 6] = [
        (Status::Archive, 1, [200, 200, 200, 200, 200]),
        (Status::Archive, 2, [403, 200, 403, 200, 200]),
        (Status::Archive, 3, [403, 200, 200, 200, 200]),
        (Status::Archive, 4, [403, 200, 403, 200, 200]),
        (Status::Inbox, 1, [404, 200, 404, 200, 200]),
        (Status::Deletion, 1, [410, 410, 410, 200, 200]),
    ];
    let mut failures = Vec::new();
    for (status, pos, want) in cases {
        let id = site.repo.store.put_records(vec![RecordWrite::new(record(status), "test")]).await.unwrap()[0];
        for (c, t) in tokens.iter().enumerate() {
            let mut req = site.client.get(site.url(&format!("/api/records/{id}/documents/{pos}")));
            if let Some(t) = t {
                req = bearer(req, t);
            }
            let res = req.send().await.unwrap();
            let got = res.status().as_u16();
            if got == 200 {
                let private = res.headers()["cache-control"].to_str().unwrap().contains("private");
                if private == (status == Status::Archive && pos == 1) {
                    failures
                        .push(format!("document {pos} of a {status:?} record: Cache-Control says private={private}"));
                }
                if res.bytes().await.unwrap() != bytes {
                    failures.push(format!("document {pos} of a {status:?} record: not the file's bytes"));
                }
            }
            if got != want[c] {
                failures.push(format!(
                    "document {pos} of a {status:?} record by {}: {got}, not {}",
                    who[c].unwrap_or("anonymous"),
                    want[c]
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // A token without the read scope reads as the public does.
    let depositor = site.session("depositor@example.org").await;
    let no_read = token(&site, &depositor, "deposit only", &["deposit"]).await;
    let id = site.repo.store.put_records(vec![RecordWrite::new(record(Status::Archive), "test")]).await.unwrap()[0];
    let res =
        bearer(site.client.get(site.url(&format!("/api/records/{id}/documents/2"))), &no_read).send().await.unwrap();
    assert_eq!(problem(res).await.0, StatusCode::FORBIDDEN);
}
