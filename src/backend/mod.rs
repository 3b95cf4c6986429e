//! The ECR backend (DESIGN §2): one `aws-sdk-ecr` client and one registry client, against the bundled
//! mock or real AWS. The two differ only in endpoint, credentials and registry address: the mock is
//! reached at `http://127.0.0.1:PORT` with the lab's key; AWS through the standard credential chain
//! (environment, profiles, SSO, `credential_process`, container and EC2 roles), the SDK's regional
//! endpoints, and `https://ACCOUNT.dkr.ecr.REGION.amazonaws.com`. This module never prints.

pub mod cleanup;
pub mod doctor;
pub mod explain;

use std::time::Duration;

use aws_credential_types::Credentials;
use aws_credential_types::provider::ProvideCredentials as _;
use mock_registry::defaults::{DEFAULT_ACCESS_KEY_ID, DEFAULT_ACCOUNT, DEFAULT_REGION, DEFAULT_SECRET_ACCESS_KEY};

use crate::registry_client::RegistryClient;
pub use explain::Explained;

/// Requests to AWS are tried at most this many times (the first try included); throttling and
/// transient errors back off in between, then the error reaches the learner.
pub const MAX_ATTEMPTS: u32 = 3;

/// A test and advanced knob: send every registry request to this base URL (keeping the registry host
/// in `Host`), instead of `https://ACCOUNT.dkr.ecr.REGION.amazonaws.com`.
pub const REGISTRY_URL_ENV: &str = "ECR_LAB_REGISTRY_URL";

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    /// The bundled mock of ECR (offline).
    Mock,
    /// Real Amazon ECR in your AWS account.
    Aws,
}

impl std::fmt::Display for BackendKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Mock => "mock",
            Self::Aws => "aws",
        })
    }
}

/// `--profile` and `--region` for the aws backend.
#[derive(Debug, Clone, Default)]
pub struct AwsOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
}

/// Where the region came from, for `doctor` and the confirmation before a real-AWS lesson.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegionSource {
    Flag,
    /// `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile, or the instance's metadata.
    Chain,
    /// Nothing configured: the guide's region.
    GuideDefault,
}

#[derive(Clone)]
enum Connection {
    /// The mock at this URL, signed with the lab's key (or a class student's) unless a command brings its own.
    Mock { endpoint: String, credentials: Credentials },
    /// Real AWS (or, in tests, whatever `AWS_ENDPOINT_URL` names) with the standard chain's credentials.
    Aws { config: Box<aws_config::SdkConfig> },
}

/// Who the lab acts as, where, and how it reaches ECR and the registry.
#[derive(Clone)]
pub struct EcrBackend {
    pub kind: BackendKind,
    connection: Connection,
    /// The caller's account (STS GetCallerIdentity on AWS).
    pub account: String,
    pub region: String,
    /// The caller's ARN.
    pub principal: String,
    registry_url: Option<String>,
}

impl EcrBackend {
    /// The mock at `endpoint`, as the lab's default account and region.
    pub fn mock(endpoint: &str) -> Self {
        Self {
            kind: BackendKind::Mock,
            connection: Connection::Mock {
                endpoint: endpoint.trim_end_matches('/').to_owned(),
                credentials: lab_credentials(),
            },
            account: DEFAULT_ACCOUNT.to_owned(),
            region: DEFAULT_REGION.to_owned(),
            principal: format!("arn:aws:iam::{DEFAULT_ACCOUNT}:user/lab-learner"),
            registry_url: Some(endpoint.trim_end_matches('/').to_owned()),
        }
    }

    /// A class server at `endpoint`, as a joined student: their account, region, user and key.
    pub fn student(endpoint: &str, student: &crate::class::Joined) -> Self {
        let mut backend = Self::mock(endpoint);
        backend.connection = Connection::Mock {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            credentials: Credentials::new(
                student.access_key_id.clone(),
                student.secret_access_key.clone(),
                None,
                None,
                "ecr-lab-class",
            ),
        };
        backend.account = student.account.clone();
        backend.region = student.region.clone();
        backend.principal = format!("arn:aws:iam::{}:user/{}", student.account, student.name);
        backend
    }

    /// On the mock, the key commands are signed with when they bring none (the lab's, or a student's).
    pub fn mock_credentials(&self) -> Option<&Credentials> {
        match &self.connection {
            Connection::Mock { credentials, .. } => Some(credentials),
            Connection::Aws { .. } => None,
        }
    }

    /// Real AWS: loads the standard chain, proves the credentials with STS GetCallerIdentity, and
    /// names the account, principal and region the lab will touch.
    pub async fn aws(options: &AwsOptions) -> Result<Self, Explained> {
        let loaded = load_aws(options).await;
        let credentials = resolve_credentials(&loaded.config).await?;
        let _ = credentials;
        let identity = caller_identity(&loaded.config, None).await?;
        Ok(Self {
            kind: BackendKind::Aws,
            connection: Connection::Aws { config: Box::new(loaded.config) },
            account: identity.account,
            region: loaded.region,
            principal: identity.arn,
            registry_url: std::env::var(REGISTRY_URL_ENV).ok().filter(|u| !u.is_empty()),
        })
    }

    /// The mock's URL, when this is the mock.
    pub fn mock_endpoint(&self) -> Option<&str> {
        match &self.connection {
            Connection::Mock { endpoint, .. } => Some(endpoint),
            Connection::Aws { .. } => None,
        }
    }

    /// The caller's registry: `ACCOUNT.dkr.ecr.REGION.amazonaws.com`.
    pub fn registry_host(&self) -> String {
        registry_host(&self.account, &self.region)
    }

    /// The registry client: every host at the mock (or the `ECR_LAB_REGISTRY_URL` override), or each
    /// host at itself over HTTPS.
    pub fn registry_client(&self) -> RegistryClient {
        match &self.registry_url {
            Some(url) => RegistryClient::new(url),
            None => RegistryClient::direct(),
        }
    }

    /// An ECR client as the lab itself: the backend's credentials, in `region` (default: the backend's).
    pub fn ecr(&self, region: Option<&str>) -> aws_sdk_ecr::Client {
        self.ecr_client(region, None, None)
    }

    /// An ECR client; `credentials` and `endpoint` override the backend's (a shell command's own
    /// `AWS_ACCESS_KEY_ID`, `--endpoint-url`).
    pub fn ecr_client(
        &self,
        region: Option<&str>,
        credentials: Option<Credentials>,
        endpoint: Option<&str>,
    ) -> aws_sdk_ecr::Client {
        let region = region.unwrap_or(&self.region).to_owned();
        match &self.connection {
            Connection::Mock { endpoint: mock, credentials: own } => {
                let credentials = credentials.unwrap_or_else(|| own.clone());
                let config = aws_sdk_ecr::Config::builder()
                    .behavior_version(aws_sdk_ecr::config::BehaviorVersion::latest())
                    .region(aws_sdk_ecr::config::Region::new(region))
                    .credentials_provider(credentials)
                    .endpoint_url(endpoint.unwrap_or(mock))
                    .http_client(http_client())
                    .retry_config(aws_sdk_ecr::config::retry::RetryConfig::disabled())
                    .build();
                aws_sdk_ecr::Client::from_conf(config)
            }
            Connection::Aws { config } => {
                let mut builder = aws_sdk_ecr::config::Builder::from(config.as_ref())
                    .region(aws_sdk_ecr::config::Region::new(region));
                if let Some(credentials) = credentials {
                    builder = builder.credentials_provider(credentials);
                }
                if let Some(endpoint) = endpoint {
                    builder = builder.endpoint_url(endpoint);
                }
                aws_sdk_ecr::Client::from_conf(builder.build())
            }
        }
    }

    /// An STS client, with a command's own credentials, region and endpoint if it brings them.
    pub fn sts_client(
        &self,
        region: Option<&str>,
        credentials: Option<Credentials>,
        endpoint: Option<&str>,
    ) -> aws_sdk_sts::Client {
        let region = aws_sdk_sts::config::Region::new(region.unwrap_or(&self.region).to_owned());
        let mut builder = match &self.connection {
            Connection::Aws { config } => aws_sdk_sts::config::Builder::from(config.as_ref()).region(region),
            Connection::Mock { endpoint, credentials: own } => aws_sdk_sts::Config::builder()
                .behavior_version(aws_sdk_sts::config::BehaviorVersion::latest())
                .region(region)
                .credentials_provider(own.clone())
                .endpoint_url(endpoint)
                .http_client(http_client())
                .retry_config(aws_sdk_sts::config::retry::RetryConfig::disabled()),
        };
        if let Some(credentials) = credentials {
            builder = builder.credentials_provider(credentials);
        }
        if let Some(endpoint) = endpoint {
            builder = builder.endpoint_url(endpoint);
        }
        aws_sdk_sts::Client::from_conf(builder.build())
    }
}

/// `ACCOUNT.dkr.ecr.REGION.amazonaws.com` (`.amazonaws.com.cn` in the China regions).
pub fn registry_host(account: &str, region: &str) -> String {
    let suffix = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
    format!("{account}.dkr.ecr.{region}.{suffix}")
}

/// The lab's own key for the mock.
pub fn lab_credentials() -> Credentials {
    Credentials::new(DEFAULT_ACCESS_KEY_ID, DEFAULT_SECRET_ACCESS_KEY, None, None, "ecr-lab")
}

/// The SDK's HTTP client: rustls with ring (rust-crates.md §4), trusting the system's roots and,
/// on a machine joined to a class over HTTPS, the class CA too.
pub fn http_client() -> aws_sdk_ecr::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, TlsContext, TrustStore, rustls_provider::CryptoMode};
    let builder = aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring));
    let cas = crate::trust::class_cas();
    if cas.is_empty() {
        return builder.build_https();
    }
    let store = cas.into_iter().fold(TrustStore::default(), |store, ca| store.with_pem_certificate(ca.into_bytes()));
    match TlsContext::builder().with_trust_store(store).build() {
        Ok(context) => builder.tls_context(context).build_https(),
        Err(e) => {
            tracing::warn!("the class CA cannot be used by the AWS SDK client ({e}); run `ecr-lab join` again");
            builder.build_https()
        }
    }
}

pub struct Identity {
    pub account: String,
    pub arn: String,
}

async fn identity_of(sts: aws_sdk_sts::Client) -> Result<Identity, Explained> {
    let output = sts.get_caller_identity().send().await.map_err(|e| explain::sdk("GetCallerIdentity", &e))?;
    Ok(Identity {
        account: output.account().unwrap_or_default().to_owned(),
        arn: output.arn().unwrap_or_default().to_owned(),
    })
}

async fn caller_identity(config: &aws_config::SdkConfig, region: Option<&str>) -> Result<Identity, Explained> {
    let mut builder = aws_sdk_sts::config::Builder::from(config);
    if let Some(region) = region {
        builder = builder.region(aws_sdk_sts::config::Region::new(region.to_owned()));
    }
    identity_of(aws_sdk_sts::Client::from_conf(builder.build())).await
}

/// The SDK configuration from the standard chain, and the region it settled on.
pub struct Loaded {
    pub config: aws_config::SdkConfig,
    pub region: String,
    pub region_source: RegionSource,
}

/// The instance metadata service is the chain's last resort. Off EC2 (a laptop, offline) it cannot
/// answer; one short try keeps "no credentials" a matter of a second, not a long hang.
fn imds_client() -> aws_config::imds::Client {
    let config = aws_config::provider_config::ProviderConfig::without_region().with_http_client(http_client());
    aws_config::imds::Client::builder()
        .configure(&config)
        .max_attempts(1)
        .connect_timeout(Duration::from_millis(800))
        .read_timeout(Duration::from_millis(800))
        .operation_timeout(Duration::from_secs(2))
        .build()
}

/// Loads the standard chain (never fails: missing pieces show when they are used).
pub async fn load_aws(options: &AwsOptions) -> Loaded {
    use aws_config::meta::region::RegionProviderChain;
    let profile = options.profile.as_deref();
    let mut profile_region = aws_config::profile::ProfileFileRegionProvider::builder();
    if let Some(profile) = profile {
        profile_region = profile_region.profile_name(profile);
    }
    let chain = RegionProviderChain::first_try(aws_config::environment::EnvironmentVariableRegionProvider::new())
        .or_else(profile_region.build())
        .or_else(aws_config::imds::region::ImdsRegionProvider::builder().imds_client(imds_client()).build());
    let (region, region_source) = match &options.region {
        Some(region) => (region.clone(), RegionSource::Flag),
        None => match chain.region().await {
            Some(region) => (region.to_string(), RegionSource::Chain),
            None => (DEFAULT_REGION.to_owned(), RegionSource::GuideDefault),
        },
    };
    let region_value = aws_config::Region::new(region.clone());
    let provider_config = aws_config::provider_config::ProviderConfig::without_region()
        .with_http_client(http_client())
        .with_region(Some(region_value.clone()));
    let mut credentials = aws_config::default_provider::credentials::DefaultCredentialsChain::builder()
        .configure(provider_config)
        .region(region_value.clone())
        .imds_client(imds_client());
    if let Some(profile) = profile {
        credentials = credentials.profile_name(profile);
    }
    let credentials = credentials.build().await;
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(http_client())
        .region(region_value)
        .credentials_provider(credentials)
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(Duration::from_secs(30))
                .build(),
        );
    if let Some(profile) = profile {
        loader = loader.profile_name(profile);
    }
    Loaded { config: loader.load().await, region, region_source }
}

/// The credentials the chain finds, or what is wrong and how to fix it.
pub async fn resolve_credentials(config: &aws_config::SdkConfig) -> Result<Credentials, Explained> {
    let Some(provider) = config.credentials_provider() else {
        return Err(explain::no_credentials("no credential provider is configured"));
    };
    let credentials = provider.provide_credentials().await.map_err(|e| explain::credentials(&e))?;
    if let Some(expiry) = credentials.expiry()
        && expiry <= std::time::SystemTime::now()
    {
        return Err(explain::expired_session());
    }
    Ok(credentials)
}
