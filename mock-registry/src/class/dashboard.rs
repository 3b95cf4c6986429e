pub(super) fn routes() -> axum::Router<crate::Lab> {
    axum::Router::new()
}
