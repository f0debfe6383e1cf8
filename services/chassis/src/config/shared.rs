//! The variables every service reads, shared by all four; each service's own `MOTCUA_<SERVICE>_*`
//! variables are in that service's settings module.

crate::variables! {
    /// Every variable the chassis reads, for every service.
    pub const VARIABLES = [
        ENV_LISTEN_ADDR {
            name: "MOTCUA_LISTEN_ADDR",
            default: "<per service: 0.0.0.0:50051 intake, :50052 signing, :50053 receipt, :50054 reporting>",
            secret: false,
            description: "address and port the gRPC server listens on",
        },
        ENV_DATABASE_URL {
            name: "MOTCUA_DATABASE_URL",
            default: "<per service: sqlite://data/<service>.db?mode=rwc>",
            secret: true,
            description: "database URL, SQLite or PostgreSQL",
        },
        ENV_MIGRATE_ON_START {
            name: "MOTCUA_MIGRATE_ON_START",
            default: "true",
            secret: false,
            description: "run migrations at start-up; set false when a migrate Job runs them",
        },
        ENV_DB_MAX_CONNECTIONS {
            name: "MOTCUA_DB_MAX_CONNECTIONS",
            default: "<SQLite 1, PostgreSQL 16>",
            secret: false,
            description: "most connections in the database pool",
        },
        ENV_LOG_FORMAT {
            name: "MOTCUA_LOG_FORMAT",
            default: "json",
            secret: false,
            description: "log format: json or pretty",
        },
        ENV_LOG {
            name: "MOTCUA_LOG",
            default: "info",
            secret: false,
            description: "log filter (tracing EnvFilter syntax)",
        },
        ENV_MAX_CONCURRENT_REQUESTS {
            name: "MOTCUA_MAX_CONCURRENT_REQUESTS",
            default: "256",
            secret: false,
            description: "requests handled at once; more are shed with RESOURCE_EXHAUSTED",
        },
        ENV_REQUEST_TIMEOUT_MS {
            name: "MOTCUA_REQUEST_TIMEOUT_MS",
            default: "30000",
            secret: false,
            description: "longest a request may run when the caller's deadline is longer or unset",
        },
        ENV_MAX_MESSAGE_BYTES {
            name: "MOTCUA_MAX_MESSAGE_BYTES",
            default: "4194304",
            secret: false,
            description: "largest request message accepted",
        },
        ENV_SHUTDOWN_DRAIN_MS {
            name: "MOTCUA_SHUTDOWN_DRAIN_MS",
            default: "5000",
            secret: false,
            description: "time NOT_SERVING before the listener closes on SIGTERM",
        },
        ENV_SHUTDOWN_GRACE_MS {
            name: "MOTCUA_SHUTDOWN_GRACE_MS",
            default: "10000",
            secret: false,
            description: "time in-flight requests get to finish after the drain",
        },
        ENV_DATA_DIR {
            name: "MOTCUA_DATA_DIR",
            default: "data",
            secret: false,
            description: "folder of the SQLite files used by `motcua up`",
        },
        ENV_HEALTH_LISTEN_ADDR {
            name: "MOTCUA_HEALTH_LISTEN_ADDR",
            default: "",
            secret: false,
            description: "address of a plaintext port serving grpc.health.v1 alone, for probes under mutual TLS",
        },
        ENV_TLS_CERT {
            name: "MOTCUA_TLS_CERT",
            default: "",
            secret: false,
            description: "path of the service's TLS certificate chain (PEM); with the key and client CA, mutual TLS",
        },
        ENV_TLS_KEY {
            name: "MOTCUA_TLS_KEY",
            default: "",
            secret: false,
            description: "path of the service's TLS private key (PEM)",
        },
        ENV_TLS_CLIENT_CA {
            name: "MOTCUA_TLS_CLIENT_CA",
            default: "",
            secret: false,
            description: "path of the CA (PEM) issuing callers' client certificates",
        },
        ENV_TLS_CLIENT_CRL {
            name: "MOTCUA_TLS_CLIENT_CRL",
            default: "",
            secret: false,
            description: "path of the client CA's revocation lists (PEM); a revoked client certificate fails the handshake",
        },
        ENV_TLS_RELOAD_INTERVAL_MS {
            name: "MOTCUA_TLS_RELOAD_INTERVAL_MS",
            default: "5000",
            secret: false,
            description: "how often the TLS certificate, key, CA and CRL are re-read; changes apply to new connections",
        },
        ENV_DEV_IDENTITY {
            name: "MOTCUA_DEV_IDENTITY",
            default: "false",
            secret: false,
            description: "development mode: plaintext on loopback, caller named by x-motcua-identity metadata",
        },
        ENV_POLICY_FILE {
            name: "MOTCUA_POLICY_FILE",
            default: "<none: every call allowed in the development mode, refused otherwise>",
            secret: false,
            description: "policy file (YAML): RPCs, branches and procedures per identity; reloaded on change",
        },
        ENV_RATE_LIMIT_PER_IDENTITY {
            name: "MOTCUA_RATE_LIMIT_PER_IDENTITY",
            default: "200",
            secret: false,
            description: "requests a second per caller identity, twice that in a burst; more is RESOURCE_EXHAUSTED",
        },
        ENV_CONCURRENCY_PER_IDENTITY {
            name: "MOTCUA_CONCURRENCY_PER_IDENTITY",
            default: "64",
            secret: false,
            description: "calls one caller identity may have open at once (a stream until it ends); more is refused",
        },
        ENV_JOBS_MAX_ATTEMPTS {
            name: "MOTCUA_JOBS_MAX_ATTEMPTS",
            default: "20",
            secret: false,
            description: "attempts a background job gets before it is dead-lettered for an operator's RetryJob",
        },
        ENV_JOBS_FIRST_BACKOFF_MS {
            name: "MOTCUA_JOBS_FIRST_BACKOFF_MS",
            default: "1000",
            secret: false,
            description: "wait after a job's first failed attempt, in milliseconds; doubles with each further one, with jitter",
        },
        ENV_JOBS_MAX_BACKOFF_MS {
            name: "MOTCUA_JOBS_MAX_BACKOFF_MS",
            default: "300000",
            secret: false,
            description: "longest wait between two attempts of a job, in milliseconds",
        },
        ENV_JOBS_LEASE_MS {
            name: "MOTCUA_JOBS_LEASE_MS",
            default: "60000",
            secret: false,
            description: "how long a replica holds a job it runs, in milliseconds (an attempt is cut off at half); then another may take it",
        },
        ENV_OTEL_EXPORTER_OTLP_ENDPOINT {
            name: "OTEL_EXPORTER_OTLP_ENDPOINT",
            default: "",
            secret: false,
            description: "OTLP/gRPC collector endpoint of spans and metrics; unset means no export",
        },
        ENV_OTEL_SERVICE_NAME {
            name: "OTEL_SERVICE_NAME",
            default: "motcua-<service>",
            secret: false,
            description: "service.name resource attribute",
        },
        ENV_OTEL_RESOURCE_ATTRIBUTES {
            name: "OTEL_RESOURCE_ATTRIBUTES",
            default: "",
            secret: false,
            description: "extra resource attributes, key=value pairs separated by commas",
        },
        ENV_TRACE_FILTER {
            name: "MOTCUA_TRACE_FILTER",
            default: "motcua=info,sea_orm::database=info",
            secret: false,
            description: "which spans are exported (tracing EnvFilter syntax): motcua's RPC, job and database spans",
        },
        ENV_OTEL_TRACES_SAMPLER {
            name: "OTEL_TRACES_SAMPLER",
            default: "parentbased_always_on",
            secret: false,
            description: "head sampler: always_on, always_off, traceidratio or their parentbased_ forms",
        },
        ENV_OTEL_TRACES_SAMPLER_ARG {
            name: "OTEL_TRACES_SAMPLER_ARG",
            default: "1.0",
            secret: false,
            description: "the ratio of root traces kept by the traceidratio samplers, 0.0 to 1.0",
        },
        ENV_OTEL_EXPORTER_OTLP_HEADERS {
            name: "OTEL_EXPORTER_OTLP_HEADERS",
            default: "",
            secret: true,
            description: "headers sent with every export, key=value pairs separated by commas (a collector's token)",
        },
        ENV_OTEL_EXPORTER_OTLP_TIMEOUT {
            name: "OTEL_EXPORTER_OTLP_TIMEOUT",
            default: "10000",
            secret: false,
            description: "longest one export of spans or metrics may take, in milliseconds",
        },
        ENV_OTEL_METRIC_EXPORT_INTERVAL {
            name: "OTEL_METRIC_EXPORT_INTERVAL",
            default: "60000",
            secret: false,
            description: "how often the RPC metrics are exported, in milliseconds",
        },
        ENV_OTEL_SDK_DISABLED {
            name: "OTEL_SDK_DISABLED",
            default: "false",
            secret: false,
            description: "true exports neither spans nor metrics, whatever the endpoint",
        },
    ];
}
