//! The four services, with the few facts that differ between them (name, port, gRPC service, error
//! domain).

/// The four services, with the defaults that differ between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ServiceKind {
    /// Procedure catalogue, dossiers and their lifecycle.
    Intake,
    /// Keys, certificates, signatures, seals and the transparency log.
    Signing,
    /// Receipts and acknowledgement slips.
    Receipt,
    /// Statistics and the service-quality index.
    Reporting,
}

impl ServiceKind {
    /// All four, in the order of their ports.
    pub const ALL: [ServiceKind; 4] = [Self::Intake, Self::Signing, Self::Receipt, Self::Reporting];

    /// The short name: `intake`, `signing`, `receipt`, `reporting`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Intake => "intake",
            Self::Signing => "signing",
            Self::Receipt => "receipt",
            Self::Reporting => "reporting",
        }
    }

    /// The default gRPC port.
    pub fn default_port(self) -> u16 {
        match self {
            Self::Intake => 50051,
            Self::Signing => 50052,
            Self::Receipt => 50053,
            Self::Reporting => 50054,
        }
    }

    /// The fully qualified name of the service's gRPC service, as reflection lists it.
    pub fn grpc_service_name(self) -> &'static str {
        match self {
            Self::Intake => "motcua.intake.v1.IntakeService",
            Self::Signing => "motcua.signing.v1.SigningService",
            Self::Receipt => "motcua.receipt.v1.ReceiptService",
            Self::Reporting => "motcua.reporting.v1.ReportingService",
        }
    }

    /// The `google.rpc.ErrorInfo` domain of the service's errors (`intake.motcua`).
    pub fn error_domain(self) -> &'static str {
        match self {
            Self::Intake => "intake.motcua",
            Self::Signing => "signing.motcua",
            Self::Receipt => "receipt.motcua",
            Self::Reporting => "reporting.motcua",
        }
    }
}
