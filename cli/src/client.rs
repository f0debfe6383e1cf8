//! Client subcommands: small, scriptable views of running services over their public gRPC API.

use anyhow::Context;
use motcua_chassis::{ServiceKind, peer};
use motcua_proto::motcua::intake::v1::{ListProceduresRequest, intake_service_client::IntakeServiceClient};
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

/// Prints the health of each of the four services on `host`; fails if any is not SERVING.
pub async fn health(host: &str) -> anyhow::Result<()> {
    let mut all_serving = true;
    for kind in ServiceKind::ALL {
        let url = format!("http://{host}:{}", kind.default_port());
        let mut client = HealthClient::new(peer::connect_lazy(&url)?);
        let request = HealthCheckRequest { service: kind.grpc_service_name().to_owned() };
        let state = match client.check(request).await {
            Ok(response) => format!("{:?}", response.into_inner().status()),
            Err(status) => format!("unreachable ({})", status.code()),
        };
        all_serving &= state == "Serving";
        println!("{:<10} {url:<26} {state}", kind.name());
    }
    anyhow::ensure!(all_serving, "not every service is serving");
    Ok(())
}

/// Prints every procedure matching `query`, one line each, walking all pages.
pub async fn procedures(intake_url: &str, query: &str) -> anyhow::Result<()> {
    let mut client = IntakeServiceClient::new(peer::connect_lazy(intake_url)?);
    let mut page_token = String::new();
    let mut count = 0;
    loop {
        let request =
            ListProceduresRequest { query: query.to_owned(), page_size: 100, page_token, ..Default::default() };
        let page = client.list_procedures(request).await.context("intake.ListProcedures")?.into_inner();
        for procedure in &page.procedures {
            let limit = procedure
                .time_limit
                .map(|limit| {
                    format!(
                        "{} {}",
                        limit.value,
                        limit.unit().as_str_name().trim_start_matches("TIME_UNIT_").to_lowercase()
                    )
                })
                .unwrap_or_else(|| "no limit given".to_owned());
            println!("{:<12} {:<24} {}", procedure.procedure_code, limit, procedure.display_name);
        }
        count += page.procedures.len();
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    println!("{count} procedures");
    Ok(())
}
