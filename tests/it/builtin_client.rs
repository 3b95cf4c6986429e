//! The `oci-client` crate, evaluated as the lab's built-in registry client: it pushes (chunked and
//! monolithic) and pulls through the mock with ECR's Basic credentials.

use base64::Engine as _;
use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::secrets::RegistryAuth;
use oci_client::{Client, Reference};

use crate::common::{InProcess, ecr_client};

async fn password(url: &str) -> String {
    let ecr = ecr_client(url, "ap-south-1").await;
    let token = ecr.get_authorization_token().send().await.unwrap();
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token.authorization_data()[0].authorization_token().unwrap())
        .unwrap();
    String::from_utf8(decoded).unwrap().strip_prefix("AWS:").unwrap().to_owned()
}

#[tokio::test]
async fn oci_client_pushes_and_pulls_with_ecr_credentials() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mock = InProcess::start().await;
    let ecr = ecr_client(&mock.url, "ap-south-1").await;
    ecr.create_repository().repository_name("lesson/app").send().await.unwrap();
    let host = mock.url.trim_start_matches("http://");
    let auth = RegistryAuth::Basic("AWS".into(), password(&mock.url).await);

    for (monolithic, tag) in [(false, "chunked"), (true, "monolithic")] {
        let client = Client::new(ClientConfig {
            protocol: ClientProtocol::Http,
            use_monolithic_push: monolithic,
            ..Default::default()
        });
        let reference: Reference = format!("{host}/lesson/app:{tag}").parse().unwrap();
        let layer = ImageLayer::oci_v1_gzip(vec![tag.len() as u8; 200_000], None);
        let config = Config::oci_v1(br#"{"architecture":"amd64","os":"linux"}"#.to_vec(), None);
        client.push(&reference, std::slice::from_ref(&layer), config, &auth, None).await.unwrap();

        let pulled =
            client.pull(&reference, &auth, vec![oci_client::manifest::IMAGE_LAYER_GZIP_MEDIA_TYPE]).await.unwrap();
        assert_eq!(pulled.layers[0].data, layer.data);
        let described = ecr
            .describe_images()
            .repository_name("lesson/app")
            .image_ids(aws_sdk_ecr::types::ImageIdentifier::builder().image_tag(tag).build())
            .send()
            .await
            .unwrap();
        assert_eq!(described.image_details()[0].image_digest(), pulled.digest.as_deref());
        assert_eq!(described.image_details()[0].image_size_in_bytes(), Some(200_000));
    }

    // A wrong password is refused.
    let client = Client::new(ClientConfig { protocol: ClientProtocol::Http, ..Default::default() });
    let reference: Reference = format!("{host}/lesson/app:chunked").parse().unwrap();
    let wrong = RegistryAuth::Basic("AWS".into(), "not-a-token".into());
    assert!(client.pull(&reference, &wrong, vec![oci_client::manifest::IMAGE_LAYER_GZIP_MEDIA_TYPE]).await.is_err());
}
