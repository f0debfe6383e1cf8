//! The procedure catalogue over real gRPC, on SQLite and on PostgreSQL: paging, Vietnamese search,
//! filters, versions, branches and the errors of bad requests.

use std::collections::HashSet;

use motcua_chassis::{
    ServiceConfig, ServiceKind,
    testing::{TestDatabase, on_every_database, start_service, start_service_with},
};
use motcua_intake::{Intake, seed, settings};
use motcua_proto::motcua::{
    common::v1::ImplementationLevel,
    intake::v1::{GetProcedureRequest, ListBranchesRequest, ListProcedureVersionsRequest, ListProceduresRequest},
};
use motcua_testkit::{clients, request_id};
use tonic::Code;
use tonic_types::StatusExt;

fn built_in_count() -> usize {
    seed::Seed::built_in().expect("built-in seed").procedures.len()
}

#[tokio::test]
async fn paging_walks_every_procedure_exactly_once() {
    on_every_database(|database| async move {
        let server = start_service::<Intake>(&database).await;
        let mut intake = clients::intake(server.local_addr).await;
        let mut seen = Vec::new();
        let mut page_token = String::new();
        let mut pages = 0;
        loop {
            let page = intake
                .list_procedures(ListProceduresRequest { page_size: 7, page_token, ..Default::default() })
                .await
                .expect("a page")
                .into_inner();
            assert!(page.procedures.len() <= 7);
            seen.extend(page.procedures.into_iter().map(|procedure| procedure.procedure_code));
            pages += 1;
            if page.next_page_token.is_empty() {
                break;
            }
            page_token = page.next_page_token;
        }
        let unique: HashSet<_> = seen.iter().collect();
        assert_eq!(seen.len(), built_in_count(), "{}: every procedure once", database.backend);
        assert_eq!(unique.len(), seen.len(), "{}: no procedure twice", database.backend);
        assert!(seen.windows(2).all(|pair| pair[0] < pair[1]), "ordered by code");
        assert_eq!(pages, built_in_count().div_ceil(7));
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn search_without_diacritics_finds_the_procedure_with_them() {
    on_every_database(|database| async move {
        let server = start_service::<Intake>(&database).await;
        let mut intake = clients::intake(server.local_addr).await;
        let found = intake
            .list_procedures(ListProceduresRequest { query: "cap giay phep xay dung".to_owned(), ..Default::default() })
            .await
            .expect("search answers")
            .into_inner()
            .procedures;
        assert!(!found.is_empty(), "{}", database.backend);
        assert!(found.iter().any(|procedure| procedure.display_name.starts_with("Cấp giấy phép xây dựng")));
        assert!(found.iter().all(|procedure| {
            let name = procedure.display_name.to_lowercase();
            name.contains("giấy phép") && name.contains("xây dựng")
        }));

        let with_diacritics = intake
            .list_procedures(ListProceduresRequest {
                query: "Cấp giấy phép xây dựng".to_owned(), ..Default::default()
            })
            .await
            .expect("search answers")
            .into_inner()
            .procedures;
        assert_eq!(with_diacritics, found, "with or without diacritics, the same answer");

        let by_code = intake
            .list_procedures(ListProceduresRequest { query: "1.001193".to_owned(), ..Default::default() })
            .await
            .expect("search by code")
            .into_inner()
            .procedures;
        assert_eq!(by_code.len(), 1);
        assert_eq!(by_code[0].display_name, "Thủ tục đăng ký khai sinh");
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn filters_by_level_and_sector() {
    on_every_database(|database| async move {
        let server = start_service::<Intake>(&database).await;
        let mut intake = clients::intake(server.local_addr).await;
        let province = intake
            .list_procedures(ListProceduresRequest {
                level: ImplementationLevel::Province as i32,
                page_size: 1000,
                ..Default::default()
            })
            .await
            .expect("level filter")
            .into_inner()
            .procedures;
        assert!(!province.is_empty());
        assert!(province.iter().all(|procedure| procedure.level() == ImplementationLevel::Province));

        let civil_status = intake
            .list_procedures(ListProceduresRequest {
                sector: "ho tich".to_owned(),
                page_size: 1000,
                ..Default::default()
            })
            .await
            .expect("sector filter")
            .into_inner()
            .procedures;
        assert!(!civil_status.is_empty());
        assert!(civil_status.iter().all(|procedure| procedure.sector == "Hộ tịch"));
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn invalid_page_tokens_and_sizes_are_invalid_arguments_with_field_violations() {
    on_every_database(|database| async move {
        let server = start_service::<Intake>(&database).await;
        let mut intake = clients::intake(server.local_addr).await;
        let cases = [
            (ListProceduresRequest { page_size: -1, ..Default::default() }, "page_size", "INVALID_PAGE_SIZE"),
            (
                ListProceduresRequest { page_token: "not-a-token".to_owned(), ..Default::default() },
                "page_token",
                "INVALID_PAGE_TOKEN",
            ),
            (ListProceduresRequest { level: 99, ..Default::default() }, "level", "INVALID_FILTER"),
        ];
        for (request, field, reason) in cases {
            let status = intake.list_procedures(request).await.expect_err("refused");
            assert_eq!(status.code(), Code::InvalidArgument, "{field}");
            let details = status.get_error_details();
            let info = details.error_info().expect("ErrorInfo");
            assert_eq!((info.reason.as_str(), info.domain.as_str()), (reason, "intake.motcua"));
            let violations = &details.bad_request().expect("BadRequest").field_violations;
            assert_eq!(violations[0].field, field);
        }

        // A token is only valid with the filters that produced it.
        let first = intake
            .list_procedures(ListProceduresRequest { page_size: 2, ..Default::default() })
            .await
            .expect("first page")
            .into_inner();
        let status = intake
            .list_procedures(ListProceduresRequest {
                page_size: 2,
                page_token: first.next_page_token,
                query: "khai sinh".to_owned(),
                ..Default::default()
            })
            .await
            .expect_err("token of another listing");
        assert_eq!(status.code(), Code::InvalidArgument);

        let status = intake
            .get_procedure(GetProcedureRequest { name: "procedures/9.999999".to_owned(), version: 0 })
            .await
            .expect_err("no such procedure");
        assert_eq!(status.code(), Code::NotFound);
        assert_eq!(
            status.get_error_details().resource_info().expect("ResourceInfo").resource_name,
            "procedures/9.999999"
        );

        let status = intake
            .get_procedure(GetProcedureRequest { name: "khai sinh".to_owned(), version: 0 })
            .await
            .expect_err("not a resource name");
        assert_eq!(status.code(), Code::InvalidArgument);
        server.stop().await.expect("clean stop");
    })
    .await;
}

#[tokio::test]
async fn a_changed_procedure_gets_a_new_version_and_the_old_stays_readable() {
    on_every_database(|database| async move {
        // First start: the built-in seed.
        let server = start_service::<Intake>(&database).await;
        server.stop().await.expect("clean stop");

        // The operator changes one procedure's time limit and restarts with the new files.
        let mut changed = seed::Seed::built_in().expect("built-in seed");
        let birth =
            changed.procedures.iter_mut().find(|spec| spec.procedure_code == "1.001193").expect("birth registration");
        let old_limit = birth.time_limit.expect("has a limit").value;
        birth.time_limit.as_mut().expect("has a limit").value = old_limit + 2;
        let folder = std::env::temp_dir().join(format!("motcua-seed-{}", request_id()));
        seed::write_folder(&changed, &folder).expect("seed written");
        let mut config = ServiceConfig::for_local(ServiceKind::Intake, database.url.clone());
        config.service_variables.insert(settings::ENV_INTAKE_SEED_DIR, folder.display().to_string());
        let server = start_service_with::<Intake>(config.clone()).await;
        let mut intake = clients::intake(server.local_addr).await;

        let current = intake
            .get_procedure(GetProcedureRequest { name: "procedures/1.001193".to_owned(), version: 0 })
            .await
            .expect("current version")
            .into_inner();
        assert_eq!((current.version, current.current), (2, true));
        assert_eq!(current.time_limit.expect("limit").value as u32, old_limit + 2);

        let first = intake
            .get_procedure(GetProcedureRequest { name: "procedures/1.001193".to_owned(), version: 1 })
            .await
            .expect("old version stays readable")
            .into_inner();
        assert_eq!((first.version, first.current), (1, false));
        assert_eq!(first.time_limit.expect("limit").value as u32, old_limit);
        assert!(first.supersede_time.is_some());

        let versions = intake
            .list_procedure_versions(ListProcedureVersionsRequest { name: "procedures/1.001193".to_owned() })
            .await
            .expect("versions")
            .into_inner()
            .versions;
        assert_eq!(versions.iter().map(|version| version.version).collect::<Vec<_>>(), vec![2, 1]);

        // Other procedures did not move, and the listing shows each procedure once.
        let other = intake
            .get_procedure(GetProcedureRequest { name: "procedures/1.000894".to_owned(), version: 0 })
            .await
            .expect("unchanged procedure")
            .into_inner();
        assert_eq!(other.version, 1);
        let all = intake
            .list_procedures(ListProceduresRequest { page_size: 1000, ..Default::default() })
            .await
            .expect("listing")
            .into_inner()
            .procedures;
        assert_eq!(all.len(), built_in_count());
        server.stop().await.expect("clean stop");

        // Restarting with the same files changes nothing.
        let server = start_service_with::<Intake>(config).await;
        let mut intake = clients::intake(server.local_addr).await;
        let versions = intake
            .list_procedure_versions(ListProcedureVersionsRequest { name: "procedures/1.001193".to_owned() })
            .await
            .expect("versions")
            .into_inner()
            .versions;
        assert_eq!(versions.len(), 2);
        server.stop().await.expect("clean stop");
        let _ = std::fs::remove_dir_all(folder);
    })
    .await;
}

#[tokio::test]
async fn branches_list_hanoi_s_thirty_branches_in_pages() {
    let database = TestDatabase::sqlite();
    let server = start_service::<Intake>(&database).await;
    let mut intake = clients::intake(server.local_addr).await;
    let first = intake
        .list_branches(ListBranchesRequest { page_size: 20, page_token: String::new() })
        .await
        .expect("first page")
        .into_inner();
    let second = intake
        .list_branches(ListBranchesRequest { page_size: 20, page_token: first.next_page_token.clone() })
        .await
        .expect("second page")
        .into_inner();
    assert_eq!((first.branches.len(), second.branches.len()), (20, 10));
    assert!(second.next_page_token.is_empty());
    assert_eq!(first.branches[0].name, "branches/CN01");
    assert!(first.branches[0].agency_code.ends_with(".H26"));
    server.stop().await.expect("clean stop");
}
