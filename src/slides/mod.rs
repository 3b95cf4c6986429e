//! The seminar deck at `/slides/`, mounted beside the mock's router by `serve` and `slides`: the
//! audience view, the presenter view, the handout, their stylesheet and script (all built into the
//! binary), and the JSON the live panels poll. Knows the deck and the [`Lab`] handle; never the wire.

pub mod deck;
mod lesson_notes;
mod live;
mod page;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use mock_registry::Lab;

pub use deck::{Deck, DeckError};
use page::View;

/// The bundled deck(s).
#[derive(rust_embed::RustEmbed)]
#[folder = "slides/"]
#[include = "*.md"]
#[exclude = "README.md"]
struct Bundled;

/// The deck `ecr-lab slides` presents unless told otherwise.
pub const SEMINAR: &str = "seminar.md";

const STYLE: &str = include_str!("assets/slides.css");
const SCRIPT: &str = include_str!("assets/slides.js");

/// A deck file's problems, each as `path:line: message`.
#[derive(Debug)]
pub struct DeckProblems {
    pub path: String,
    pub errors: Vec<DeckError>,
}

impl std::fmt::Display for DeckProblems {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} problem(s) in the deck {}", self.errors.len(), self.path)?;
        for error in &self.errors {
            write!(f, "\n{}:{}: {}", self.path, error.line, error.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for DeckProblems {}

/// The bundled seminar deck.
pub fn bundled() -> Result<Deck, DeckProblems> {
    let file = Bundled::get(SEMINAR).expect("slides/seminar.md is bundled");
    let text = String::from_utf8_lossy(&file.data);
    deck::parse(&text).map_err(|errors| DeckProblems { path: format!("slides/{SEMINAR}"), errors })
}

/// A deck from a file (a trainer's own).
pub fn from_file(path: &Path) -> anyhow::Result<Deck> {
    let text =
        std::fs::read_to_string(path).map_err(|e| anyhow::anyhow!("cannot read the deck {}: {e}", path.display()))?;
    deck::parse(&text).map_err(|errors| DeckProblems { path: path.display().to_string(), errors }.into())
}

#[derive(Clone)]
struct Slides {
    lab: Lab,
    /// The pages, rendered once: the deck does not change while the server runs.
    audience: Arc<str>,
    handout: Arc<str>,
    presenter: Arc<str>,
}

/// The routes under `/slides/`, to merge beside [`mock_registry::router`].
pub fn router(lab: Lab, deck: &Deck) -> Router {
    let slides = Slides {
        lab,
        audience: page::render(deck, View::Audience).into(),
        handout: page::render(deck, View::Handout).into(),
        presenter: page::render(deck, View::Presenter).into(),
    };
    Router::new()
        .route("/slides", get(|| async { Redirect::permanent("/slides/") }))
        .route("/slides/", get(audience))
        .route("/slides/presenter", get(presenter))
        .route("/slides/assets/{file}", get(asset))
        .route("/slides/api/repositories", get(live::repositories))
        .route("/slides/api/images", get(live::images))
        .with_state(slides)
}

/// `/slides/`, or with `?print-notes` the handout.
async fn audience(State(slides): State<Slides>, Query(query): Query<HashMap<String, String>>) -> Response {
    let page = if query.contains_key("print-notes") { &slides.handout } else { &slides.audience };
    Html(page.to_string()).into_response()
}

async fn presenter(State(slides): State<Slides>) -> Response {
    Html(slides.presenter.to_string()).into_response()
}

async fn asset(UrlPath(file): UrlPath<String>) -> Response {
    let (body, kind) = match file.as_str() {
        "slides.css" => (STYLE, "text/css; charset=utf-8"),
        "slides.js" => (SCRIPT, "text/javascript; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "no such slides asset\n").into_response(),
    };
    let mut response = body.into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(kind));
    // Revalidated each time, so a rebuilt lab never serves yesterday's script.
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lesson::{self, fault};

    /// The bundled deck renders: no unknown placeholder, no empty slide, and the catalogue's
    /// commands and errors appear as the lessons fill them.
    #[test]
    fn the_bundled_deck_renders_with_the_catalogue_texts() {
        let deck = bundled().unwrap_or_else(|problems| panic!("{problems}"));
        assert!(deck.slides.len() >= 15, "a seminar's worth of slides: {}", deck.slides.len());
        let all: String = deck.slides.iter().map(|s| deck::text_of(&format!("{}\n{}", s.html, s.notes))).collect();
        assert!(!all.contains("{{"), "every placeholder is filled");
        let vars = lesson::built_in_variables();
        for spec in fault::CATALOGUE {
            let error = lesson::fill(spec.error, &vars);
            assert!(all.contains(&error), "the deck quotes the {} error: {error}", spec.id);
            let command = lesson::fill(spec.trigger, &vars);
            assert!(all.contains(&command), "the deck shows the command that meets {}: {command}", spec.id);
        }
        for slide in &deck.slides {
            assert!(!slide.title.is_empty(), "slide at line {} has a title", slide.line);
            assert!(!slide.notes.is_empty(), "slide at line {} ({}) has speaker notes", slide.line, slide.title);
        }
        assert!(
            deck.slides.iter().any(|s| s.html.contains("data-live=\"repositories\"")),
            "the demo shows the repository list live"
        );
    }

    async fn get(path: &str) -> (StatusCode, Option<String>, String) {
        use tower::ServiceExt as _;
        let lab = Lab::ephemeral().unwrap();
        let deck = bundled().unwrap();
        let request = axum::http::Request::get(path).body(axum::body::Body::empty()).unwrap();
        let response = router(lab, &deck).oneshot(request).await.unwrap();
        let status = response.status();
        let kind = response.headers().get(header::CONTENT_TYPE).map(|v| v.to_str().unwrap().to_owned());
        let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        (status, kind, String::from_utf8(body.to_vec()).unwrap())
    }

    #[tokio::test]
    async fn pages_and_assets_have_their_content_types() {
        let (status, kind, body) = get("/slides/").await;
        assert_eq!((status, kind.as_deref()), (StatusCode::OK, Some("text/html; charset=utf-8")));
        assert!(body.contains("data-mode=\"audience\""));
        let (_, _, body) = get("/slides/?print-notes").await;
        assert!(body.contains("data-mode=\"handout\""));
        let (_, _, body) = get("/slides/presenter").await;
        assert!(body.contains("data-mode=\"presenter\""));
        let (status, kind, _) = get("/slides/assets/slides.css").await;
        assert_eq!((status, kind.as_deref()), (StatusCode::OK, Some("text/css; charset=utf-8")));
        let (status, kind, _) = get("/slides/assets/slides.js").await;
        assert_eq!((status, kind.as_deref()), (StatusCode::OK, Some("text/javascript; charset=utf-8")));
        let (status, _, body) = get("/slides/assets/../../etc/passwd").await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        let (status, _, _) = get("/slides/assets/other.js").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _, _) = get("/slides").await;
        assert_eq!(status, StatusCode::PERMANENT_REDIRECT);
    }

    #[tokio::test]
    async fn live_endpoints_answer_with_the_state_or_ecr_errors() {
        let (status, _, body) = get("/slides/api/repositories").await;
        assert_eq!(status, StatusCode::OK);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["registry"], "920736617090.dkr.ecr.ap-south-1.amazonaws.com");
        assert_eq!(json["repositories"], serde_json::json!([]));

        let (status, _, body) = get("/slides/api/images?repository=test").await;
        assert_eq!(status, StatusCode::OK);
        let json: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(json["error"]["code"], "RepositoryNotFoundException");
        assert_eq!(
            json["error"]["message"],
            "The repository with name 'test' does not exist in the registry with id '920736617090'"
        );

        let (status, _, body) = get("/slides/api/repositories?region=mars").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("'mars' is not an AWS region"), "{body}");
        let (status, _, body) = get("/slides/api/images?repository=Bad_Name").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(body.contains("repository 'Bad_Name'"), "{body}");
    }
}
