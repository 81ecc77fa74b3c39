//! The page templates: built into the binary, overridable per installation.
//!
//! Every built-in template is compiled in with `include_str!`, so the binary
//! serves a complete site on its own. At startup, each `.html` file in the
//! repository's templates directory (`server.templates` in `arkiv.toml`)
//! replaces the built-in template of the same name, or adds a new one that
//! an override can include. Everything is parsed once, here, into one
//! [`minijinja::Environment`] shared by all requests: no request parses a
//! template. Output is HTML-escaped by default (minijinja escapes templates
//! whose names end in `.html`), so a title with `<script>` in it is text.

use anyhow::{Context, Result};
use arkiv_services::settings::LiveSettings;
use minijinja::value::{Enumerator, Object, Serde, Value};
use minijinja::Environment;
use serde::Serialize;
use std::path::Path;
use std::sync::Arc;

/// The built-in templates, by name.
pub const BUILTIN: &[(&str, &str)] = &[
    ("layout.html", include_str!("../templates/layout.html")),
    ("macros.html", include_str!("../templates/macros.html")),
    ("home.html", include_str!("../templates/home.html")),
    ("record.html", include_str!("../templates/record.html")),
    ("landing_head.html", include_str!("../templates/landing_head.html")),
    ("landing_aside.html", include_str!("../templates/landing_aside.html")),
    ("tombstone.html", include_str!("../templates/tombstone.html")),
    ("stats.html", include_str!("../templates/stats.html")),
    ("api_docs.html", include_str!("../templates/api_docs.html")),
    ("views.html", include_str!("../templates/views.html")),
    ("view_values.html", include_str!("../templates/view_values.html")),
    ("view_subjects.html", include_str!("../templates/view_subjects.html")),
    ("view_page.html", include_str!("../templates/view_page.html")),
    ("search.html", include_str!("../templates/search.html")),
    ("search_advanced.html", include_str!("../templates/search_advanced.html")),
    ("error.html", include_str!("../templates/error.html")),
    ("login.html", include_str!("../templates/login.html")),
    ("register.html", include_str!("../templates/register.html")),
    ("register_confirm.html", include_str!("../templates/register_confirm.html")),
    ("actions.html", include_str!("../templates/actions.html")),
    ("workarea.html", include_str!("../templates/workarea.html")),
    ("deposit.html", include_str!("../templates/deposit.html")),
    ("review.html", include_str!("../templates/review.html")),
    ("history.html", include_str!("../templates/history.html")),
    ("admin.html", include_str!("../templates/admin.html")),
    ("profile.html", include_str!("../templates/profile.html")),
    ("copy_request.html", include_str!("../templates/copy_request.html")),
    ("copy_requests.html", include_str!("../templates/copy_requests.html")),
    ("harvests.html", include_str!("../templates/harvests.html")),
    ("password_forgot.html", include_str!("../templates/password_forgot.html")),
    ("password_reset.html", include_str!("../templates/password_reset.html")),
];

/// An override larger than this is refused: a template is not a data file.
const MAX_TEMPLATE_BYTES: u64 = 1 << 20;

/// What every page may show of the repository itself: the `site` global
/// of every template. `site.base_url` and `site.css` are fixed at startup;
/// `site.name`, `site.description` and `site.contact_email` are read from
/// the live settings each time a template asks, so a change an admin makes
/// shows on the next page rendered, overrides included.
#[derive(Clone)]
pub struct Site {
    pub base_url: String,
    /// The stylesheet's address, versioned by its content so that browsers
    /// may cache it for long and still see a new one at once.
    pub css: String,
    live: Arc<dyn Fn() -> Arc<LiveSettings> + Send + Sync>,
}

impl Site {
    /// `live` gives the settings in effect (e.g. `Repository::settings`).
    pub fn new(base_url: String, css: String, live: impl Fn() -> Arc<LiveSettings> + Send + Sync + 'static) -> Site {
        Site { base_url, css, live: Arc::new(live) }
    }

    pub fn settings(&self) -> Arc<LiveSettings> {
        (self.live)()
    }
}

impl std::fmt::Debug for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Site").field("base_url", &self.base_url).field("css", &self.css).finish_non_exhaustive()
    }
}

impl Object for Site {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        Some(match key.as_str()? {
            "name" => Value::from(self.settings().name.clone()),
            "description" => Value::from(self.settings().description.clone()),
            "contact_email" => Value::from(self.settings().contact_email.clone()),
            "base_url" => Value::from(self.base_url.clone()),
            "css" => Value::from(self.css.clone()),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(&["name", "description", "contact_email", "base_url", "css"])
    }
}

pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    /// The built-in templates with the overrides found in `dir` (if any).
    /// Fails if an override cannot be read or parsed: a broken site should
    /// stop `arkiv serve`, not show up in front of readers.
    pub fn load(dir: Option<&Path>, site: Site) -> Result<Templates> {
        let mut env = Environment::new();
        env.set_formatter(html_formatter);
        // `{{ csrf | masked }}`: the CSRF token masked afresh for this
        // response (see `auth`), so gzip cannot give it away (BREACH).
        env.add_filter("masked", |token: String| arkiv_services::accounts::tokens::mask_token(&token));
        for (name, source) in BUILTIN {
            env.add_template(name, source).with_context(|| format!("built-in template {name}"))?;
        }
        if let Some(dir) = dir {
            for (name, source) in read_overrides(dir)? {
                env.add_template_owned(name.clone(), source)
                    .with_context(|| format!("template {} cannot be parsed", dir.join(&name).display()))?;
            }
        }
        env.add_global("site", Value::from_object(site));
        Ok(Templates { env })
    }

    /// The built-in templates alone.
    pub fn builtin(site: Site) -> Templates {
        Templates::load(None, site).expect("the built-in templates parse")
    }

    pub fn render<S: Serialize>(&self, name: &str, ctx: S) -> Result<String, minijinja::Error> {
        // Every page's header shows who is logged in (see `auth`).
        let ctx = minijinja::context! { viewer => Value::from(Serde(crate::auth::header_viewer())), ..Value::from(Serde(&ctx)) };
        self.env.get_template(name)?.render(ctx)
    }
}

/// HTML escaping of the five characters that matter (`&<>"'`). minijinja's
/// own escaper also turns every `/` into `&#x2f;`, which is safe but makes
/// every URL in the page source unreadable and the pages larger.
fn html_formatter(
    out: &mut minijinja::Output,
    state: &mut minijinja::State,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    if *state.auto_escape() != minijinja::AutoEscape::Html || value.is_safe() {
        return minijinja::escape_formatter(out, state, value);
    }
    let text = value.to_string();
    let mut last = 0;
    for (i, b) in text.bytes().enumerate() {
        let entity = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.write_str(&text[last..i]).map_err(minijinja::Error::from)?;
        out.write_str(entity).map_err(minijinja::Error::from)?;
        last = i + 1;
    }
    out.write_str(&text[last..]).map_err(minijinja::Error::from)
}

/// Every `.html` file directly in `dir`, by file name. A missing directory
/// is no error: most installations override nothing.
fn read_overrides(dir: &Path) -> Result<Vec<(String, String)>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read the templates directory {}", dir.display())),
    };
    let mut found = Vec::new();
    for entry in entries {
        let entry = entry?;
        let path = entry.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()).map(str::to_string) else { continue };
        if !name.ends_with(".html") || name.starts_with('.') {
            continue;
        }
        let meta = std::fs::metadata(&path)?;
        if !meta.is_file() {
            continue;
        }
        if meta.len() > MAX_TEMPLATE_BYTES {
            anyhow::bail!("template {} is larger than {MAX_TEMPLATE_BYTES} bytes", path.display());
        }
        let source = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        tracing::info!(template = %name, "using the installation's template");
        found.push((name, source));
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> Site {
        let mut config = arkiv_services::Config::default();
        config.repository.name = "R & D <Papers>".into();
        let live = Arc::new(LiveSettings::from_file(&config));
        Site::new("http://x".into(), "/static/arkiv.css".into(), move || live.clone())
    }

    #[test]
    fn the_site_global_reads_the_settings_at_render_time() {
        let config = arkiv_services::Config::default();
        let now = Arc::new(std::sync::RwLock::new(Arc::new(LiveSettings::from_file(&config))));
        let read = now.clone();
        let site = Site::new("http://x".into(), "/c.css".into(), move || read.read().unwrap().clone());
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("error.html"), "{{ site.name }}|{{ site.base_url }}|{{ site.css }}").unwrap();
        let t = Templates::load(Some(dir.path()), site).unwrap();
        assert_eq!(t.render("error.html", minijinja::context! {}).unwrap(), "Arkiv|http://x|/c.css");
        let mut changed = LiveSettings::from_file(&config);
        changed.name = "Renamed".into();
        *now.write().unwrap() = Arc::new(changed);
        assert_eq!(t.render("error.html", minijinja::context! {}).unwrap(), "Renamed|http://x|/c.css");
    }

    #[test]
    fn output_is_escaped_but_urls_stay_readable() {
        let t = Templates::builtin(site());
        let html = t
            .render(
                "error.html",
                minijinja::context! { status => 404, title => "<script>x</script>", message => "it's /here/" },
            )
            .unwrap();
        assert!(html.contains("&lt;script&gt;x&lt;/script&gt;"));
        assert!(html.contains("it&#39;s /here/"));
        assert!(html.contains("R &amp; D &lt;Papers&gt;"));
        assert!(!html.contains("<script>"));
    }

    #[test]
    fn overrides_replace_builtins_and_broken_ones_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("error.html"), "custom {{ title }}").unwrap();
        let t = Templates::load(Some(dir.path()), site()).unwrap();
        assert_eq!(t.render("error.html", minijinja::context! { title => "T" }).unwrap(), "custom T");
        std::fs::write(dir.path().join("home.html"), "{% if %}").unwrap();
        assert!(Templates::load(Some(dir.path()), site()).is_err());
        assert!(Templates::load(Some(&dir.path().join("missing")), site()).is_ok());
    }
}
