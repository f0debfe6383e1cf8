"""An agency's Python client against the real suite: stubs generated from proto/ alone with
grpcio-tools drive the demo path (a dossier filed, its slip and fee receipt issued by intake, a
supplement, the result rendered, signed, sealed, returned and rated), discover the API by server
reflection, and act on the google.rpc error details of refused calls. `make interop` runs it; see
README.md beside it."""

import datetime
import shutil
import sys
import tempfile
import time
import unittest
import uuid

import grpc
from google.protobuf import descriptor_pool

# No __pycache__ folder in the checkout.
sys.dont_write_bytecode = True

import motcua_suite  # noqa: E402

# The identity an agency's system has in the development mode (`motcua up`): the x-motcua-identity
# metadata stands for the client certificate's URI SAN of production.
AGENCY = (("x-motcua-identity", "agency/so-tu-phap"),)
# The center's own staff, who set up the demo branch's signers.
STAFF = (("x-motcua-identity", "staff/cn01"),)

# The demo's branch, procedure (permanent residence registration: commune level, a fee at intake) and
# officers, as in `motcua demo`.
BRANCH = "CN01"
PROCEDURE = "1.004222"
OFFICER = "CB001"
LEADER = "LD001"

# Asia/Ho_Chi_Minh, where motcua's calendar days are.
VIETNAM = datetime.timezone(datetime.timedelta(hours=7))
# How long intake's follow-ups, receipt's background signatures and reporting's ingestion may take.
FOLLOW_WAIT_SECONDS = 30
# A deadline on every call, as a production client would set.
CALL_TIMEOUT = 15

# Set by setUpModule: the generated modules (imported only once protoc has run) and the suite.
pb = None
suite = None
stubs_dir = None
# The end of `motcua up`'s log, kept when the suite is cleaned up, to print when a test failed.
suite_log = ""


class GeneratedModules:
    """The generated modules and google.rpc's, imported after generation."""

    def __init__(self):
        from google.rpc import error_details_pb2, status_pb2
        from google.type import date_pb2
        from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase
        from grpc_status import rpc_status
        from motcua.common.v1 import common_pb2
        from motcua.intake.v1 import document_pb2, dossier_pb2, intake_service_pb2, intake_service_pb2_grpc
        from motcua.receipt.v1 import receipt_service_pb2, receipt_service_pb2_grpc, receipts_pb2
        from motcua.reporting.v1 import reporting_service_pb2, reporting_service_pb2_grpc, statistics_pb2
        from motcua.signing.v1 import certificates_pb2, signatures_pb2, signing_service_pb2, signing_service_pb2_grpc

        self.error_details = error_details_pb2
        self.status = status_pb2
        self.date = date_pb2
        self.reflection_database = ProtoReflectionDescriptorDatabase
        self.rpc_status = rpc_status
        self.common = common_pb2
        self.document = document_pb2
        self.dossier = dossier_pb2
        self.intake = intake_service_pb2
        self.intake_grpc = intake_service_pb2_grpc
        self.receipts = receipts_pb2
        self.receipt = receipt_service_pb2
        self.receipt_grpc = receipt_service_pb2_grpc
        self.statistics = statistics_pb2
        self.reporting = reporting_service_pb2
        self.reporting_grpc = reporting_service_pb2_grpc
        self.certificates = certificates_pb2
        self.signatures = signatures_pb2
        self.signing = signing_service_pb2
        self.signing_grpc = signing_service_pb2_grpc


def setUpModule():
    global pb, suite, stubs_dir
    stubs_dir = tempfile.mkdtemp(prefix="motcua-interop-stubs-")
    try:
        motcua_suite.generate_stubs(stubs_dir)
        pb = GeneratedModules()
        suite = motcua_suite.Suite()
        suite.start()
    except BaseException:
        # unittest skips tearDownModule when setUpModule fails: clean up here.
        clean_up()
        raise


def tearDownModule():
    exit_code, log = clean_up()
    if exit_code != 0:
        raise AssertionError(f"motcua up did not stop cleanly on SIGTERM (exit {exit_code}):\n{log}")


def clean_up():
    """Stops the suite and removes the stubs and the data; the suite's exit code and its log's tail."""
    global suite_log
    exit_code, log = 0, ""
    if suite is not None:
        exit_code = suite.stop()
        log = suite_log = suite.log_tail()
        shutil.rmtree(suite.dir, ignore_errors=True)
    shutil.rmtree(stubs_dir, ignore_errors=True)
    return exit_code, log


def new_id():
    return str(uuid.uuid4())


def officer(officer_id):
    return pb.dossier.Officer(officer_id=officer_id)


def refusal(call, request, metadata=AGENCY):
    """Makes a call that must fail; its gRPC error and the google.rpc.Status decoded from the
    grpc-status-details-bin trailer, with the details unpacked by type."""
    try:
        call(request, metadata=metadata, timeout=CALL_TIMEOUT)
    except grpc.RpcError as error:
        trailers = dict(error.trailing_metadata() or ())
        if "grpc-status-details-bin" not in trailers:
            raise AssertionError(f"{error.code()} without grpc-status-details-bin: {error.details()}") from error
        # The trailer is a serialized google.rpc.Status; grpcio-status decodes it the same way and also
        # checks that its code and message agree with the call's.
        status = pb.status.Status.FromString(trailers["grpc-status-details-bin"])
        if pb.rpc_status.from_call(error) != status:
            raise AssertionError(f"grpcio-status decodes another status than the trailer's: {status}")
        details = {}
        for detail in status.details:
            for kind in (
                pb.error_details.ErrorInfo,
                pb.error_details.BadRequest,
                pb.error_details.ResourceInfo,
                pb.error_details.PreconditionFailure,
                pb.error_details.RetryInfo,
            ):
                if detail.Is(kind.DESCRIPTOR):
                    message = kind()
                    detail.Unpack(message)
                    details[kind.__name__] = message
        return error, status, details
    raise AssertionError(f"{call} was expected to be refused, and answered")


class TheAgencysClient(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.channels = {
            service: motcua_suite.channel(suite.host, port) for service, (_, port) in motcua_suite.SERVICES.items()
        }
        cls.intake = pb.intake_grpc.IntakeServiceStub(cls.channels["intake"])
        cls.signing = pb.signing_grpc.SigningServiceStub(cls.channels["signing"])
        cls.receipt = pb.receipt_grpc.ReceiptServiceStub(cls.channels["receipt"])
        cls.reporting = pb.reporting_grpc.ReportingServiceStub(cls.channels["reporting"])

    @classmethod
    def tearDownClass(cls):
        for open_channel in cls.channels.values():
            open_channel.close()

    def test_discovers_each_services_api_by_server_reflection(self):
        for service, (grpc_name, _) in motcua_suite.SERVICES.items():
            with self.subTest(service=service):
                database = pb.reflection_database(self.channels[service])
                listed = set(database.get_services())
                self.assertIn(grpc_name, listed)
                self.assertIn("grpc.health.v1.Health", listed)
                # What reflection describes is the contract the stubs were generated from (a binary
                # older than proto/ shows here).
                discovered = descriptor_pool.DescriptorPool(database).FindServiceByName(grpc_name)
                generated = descriptor_pool.Default().FindServiceByName(grpc_name)
                self.assertEqual(
                    sorted(method.name for method in discovered.methods),
                    sorted(method.name for method in generated.methods),
                    f"{grpc_name}: the running motcua serves another contract than proto/ (a stale binary?)",
                )

    def test_takes_a_dossier_from_filing_to_a_signed_sealed_receipted_returned_and_rated_result(self):
        self.set_up_signers()
        procedure, components = self.procedure_and_components()
        filing = pb.intake.CreateDossierRequest(
            request_id=new_id(),
            branch_code=BRANCH,
            procedure_code=PROCEDURE,
            channel=pb.common.CHANNEL_IN_PERSON,
            applicant=pb.common.Applicant(
                citizen=pb.common.Citizen(identity_number="001099000001", full_name="Người dân thử nghiệm")
            ),
            receiving_officer=officer(OFFICER),
            components=components,
        )
        filed = self.intake.CreateDossier(filing, metadata=AGENCY, timeout=CALL_TIMEOUT).dossier
        filed_at = time.monotonic()
        self.assertEqual(filed.status, pb.common.DOSSIER_STATUS_RECEIVED)
        self.assertEqual(filed.name, f"dossiers/{filed.dossier_code}")
        # A retry with the same request id is the same dossier, not a second one.
        again = self.intake.CreateDossier(filing, metadata=AGENCY, timeout=CALL_TIMEOUT).dossier
        self.assertEqual(again.name, filed.name)

        # Intake issues the acknowledgement slip and the fee due at intake through receipt on its own;
        # receipt has each signed.
        slip, fee_receipt = self.wait_for_intakes_receipts(filed.name, filed_at)
        self.assertEqual(slip.kind, pb.receipts.RECEIPT_KIND_ACKNOWLEDGEMENT_SLIP)
        self.assertEqual(fee_receipt.kind, pb.receipts.RECEIPT_KIND_FEE_RECEIPT)
        self.assertGreater(fee_receipt.total.dong, 0)
        for issued in (slip, fee_receipt):
            self.assertEqual(issued.content.dossier_code, filed.dossier_code)
            self.assertTrue(issued.lookup_code)

        self.intake.StartProcessing(
            pb.intake.StartProcessingRequest(request_id=new_id(), name=filed.name, actor=officer(OFFICER)),
            metadata=AGENCY,
            timeout=CALL_TIMEOUT,
        )
        self.intake.RequestSupplement(
            pb.intake.RequestSupplementRequest(
                request_id=new_id(),
                name=filed.name,
                actor=officer(OFFICER),
                reason="Bổ sung bản sao giấy tờ chứng minh chỗ ở hợp pháp",
                requested_components=[pb.dossier.RequestedComponent(note="Bản sao có chứng thực")],
            ),
            metadata=AGENCY,
            timeout=CALL_TIMEOUT,
        )
        supplemented = self.intake.SupplementDossier(
            pb.intake.SupplementDossierRequest(
                request_id=new_id(), name=filed.name, actor=officer(OFFICER), components=components
            ),
            metadata=AGENCY,
            timeout=CALL_TIMEOUT,
        ).dossier
        self.assertEqual(supplemented.status, pb.common.DOSSIER_STATUS_PROCESSING)

        # The result document: a PDF receipt renders with the dossier code and a QR code.
        rendered = self.receipt.RenderResultDocument(
            pb.receipt.RenderResultDocumentRequest(
                dossier_code=filed.dossier_code,
                title="XÁC NHẬN ĐĂNG KÝ THƯỜNG TRÚ",
                procedure_code=PROCEDURE,
                procedure_name=procedure.display_name,
                decision_text=f"Hồ sơ {filed.dossier_code} đã được giải quyết.",
                branch_code=BRANCH,
            ),
            metadata=AGENCY,
            timeout=CALL_TIMEOUT,
        )
        self.assertEqual(rendered.media_type, "application/pdf")
        self.assertTrue(rendered.content.startswith(b"%PDF-"))
        self.assertTrue(rendered.verification_url)
        resolved = self.intake.ResolveDossier(
            pb.intake.ResolveDossierRequest(
                request_id=new_id(),
                name=filed.name,
                actor=officer(OFFICER),
                file=pb.document.DocumentFile(
                    file_name=rendered.file_name, media_type=rendered.media_type, content=rendered.content
                ),
                electronic=True,
            ),
            metadata=AGENCY,
            timeout=CALL_TIMEOUT,
        ).dossier
        self.assertTrue(resolved.result.officer_signature.startswith("signatures/"))
        approved = self.intake.ApproveResult(
            pb.intake.ApproveResultRequest(request_id=new_id(), name=filed.name, actor=officer(LEADER)),
            metadata=AGENCY,
            timeout=CALL_TIMEOUT,
        ).dossier
        self.assertEqual(approved.status, pb.common.DOSSIER_STATUS_RESOLVED)
        self.assertTrue(approved.result.seal_signature.startswith("signatures/"))

        self.intake.ReturnResult(
            pb.intake.ReturnResultRequest(
                request_id=new_id(),
                name=filed.name,
                actor=officer(OFFICER),
                return_method=pb.dossier.RETURN_METHOD_ELECTRONIC,
            ),
            metadata=AGENCY,
            timeout=CALL_TIMEOUT,
        )
        self.intake.RateDossier(
            pb.intake.RateDossierRequest(request_id=new_id(), name=filed.name, rating=pb.dossier.RATING_SATISFIED),
            metadata=AGENCY,
            timeout=CALL_TIMEOUT,
        )

        final = self.intake.GetDossier(
            pb.intake.GetDossierRequest(name=filed.name), metadata=AGENCY, timeout=CALL_TIMEOUT
        )
        self.assertEqual(final.status, pb.common.DOSSIER_STATUS_RETURNED)  # 10
        self.assertEqual(final.rating.rating, pb.dossier.RATING_SATISFIED)
        self.assertEqual(final.result.return_method, pb.dossier.RETURN_METHOD_ELECTRONIC)
        self.assertEqual(final.result.officer_signature, resolved.result.officer_signature)
        self.assertEqual(final.result.seal_signature, approved.result.seal_signature)
        self.assertIn(slip.name, final.receipts)
        self.assertIn(fee_receipt.name, final.receipts)

        # The signatures exist in signing, cover exactly the result's bytes, and no other bytes.
        for name, kind, role in (
            (
                final.result.officer_signature,
                pb.signatures.SIGNATURE_KIND_PERSONAL,
                pb.certificates.SIGNER_ROLE_OFFICER,
            ),
            (final.result.seal_signature, pb.signatures.SIGNATURE_KIND_SEAL, pb.certificates.SIGNER_ROLE_APPROVER),
        ):
            with self.subTest(signature=name):
                record = self.signing.GetSignature(
                    pb.signing.GetSignatureRequest(name=name), metadata=AGENCY, timeout=CALL_TIMEOUT
                )
                self.assertEqual(record.kind, kind)
                self.assertEqual(record.branch_code, BRANCH)
                self.assertTrue(record.cms_der, "the record carries its .p7s bytes")
                verified = self.verify(name, rendered.content)
                self.assertTrue(verified.valid, f"{name}: {verified}")
                self.assertEqual(verified.signer_role, role)
                tampered = bytearray(rendered.content)
                tampered[len(tampered) // 2] ^= 0x01
                refused = self.verify(name, bytes(tampered))
                self.assertFalse(refused.valid)
                self.assertEqual(refused.failure, pb.signatures.VERIFICATION_FAILURE_DIGEST_MISMATCH)
        for issued in (slip, fee_receipt):
            with self.subTest(receipt=issued.name):
                record = self.signing.GetSignature(
                    pb.signing.GetSignatureRequest(name=issued.signature.signature),
                    metadata=AGENCY,
                    timeout=CALL_TIMEOUT,
                )
                self.assertEqual(record.log_index, issued.signature.log_index)
                self.assertEqual(record.branch_code, BRANCH)

        # Reporting counts the rating, the dossier's last event, on the day it was given.
        rated_on = final.rating.create_time.ToDatetime(tzinfo=datetime.timezone.utc).astimezone(VIETNAM).date()
        counters = self.wait_for_reporting(rated_on)
        self.assertGreaterEqual(counters.received, 1)
        self.assertGreaterEqual(counters.returned, 1)
        self.assertGreaterEqual(counters.ratings_satisfied, 1)

    def test_refuses_a_dossier_without_applicant_naming_the_field(self):
        # Valid in every other field, so that the applicant is the one violation.
        _, components = self.procedure_and_components()
        request = pb.intake.CreateDossierRequest(
            request_id=new_id(),
            branch_code=BRANCH,
            procedure_code=PROCEDURE,
            channel=pb.common.CHANNEL_IN_PERSON,
            receiving_officer=officer(OFFICER),
            components=components,
        )
        error, status, details = refusal(self.intake.CreateDossier, request)
        self.assertEqual(error.code(), grpc.StatusCode.INVALID_ARGUMENT)
        self.assertEqual(status.code, grpc.StatusCode.INVALID_ARGUMENT.value[0])
        self.assertIn("ErrorInfo", details)
        self.assertEqual(details["ErrorInfo"].domain, "intake.motcua")
        self.assertRegex(details["ErrorInfo"].reason, r"^[A-Z][A-Z0-9_]*$")
        self.assertIn("BadRequest", details)
        violations = details["BadRequest"].field_violations
        self.assertEqual([violation.field for violation in violations], ["applicant"])
        self.assertTrue(violations[0].description)

    def test_answers_an_unknown_dossier_not_found_with_what_was_asked_for(self):
        name = "dossiers/000.00.12.H26-000101-9999"
        error, _, details = refusal(self.intake.GetDossier, pb.intake.GetDossierRequest(name=name))
        self.assertEqual(error.code(), grpc.StatusCode.NOT_FOUND)
        self.assertEqual(details["ErrorInfo"].reason, "NOT_FOUND")
        self.assertEqual(details["ErrorInfo"].domain, "intake.motcua")
        self.assertEqual(details["ResourceInfo"].resource_type, "motcua.intake.v1.Dossier")
        self.assertEqual(details["ResourceInfo"].resource_name, name)

    # The steps of the path, each as an agency's code would write it.

    def procedure_and_components(self):
        """The demo procedure, and its required components as paper originals."""
        procedure = self.intake.GetProcedure(
            pb.intake.GetProcedureRequest(name=f"procedures/{PROCEDURE}"), metadata=AGENCY, timeout=CALL_TIMEOUT
        )
        components = [
            pb.dossier.SubmittedComponent(
                component_code=component.code, copy_kind=pb.common.COPY_KIND_ORIGINAL, copies=1
            )
            for component in procedure.components
            if component.required
        ]
        self.assertTrue(components, f"procedure {PROCEDURE} has required components")
        return procedure, components

    def set_up_signers(self):
        """A root, branch CN01's intermediate, the officer, the leader (approver) and the branch seal."""
        for authority_id, kind, parent, branch, display in (
            ("interop-root", pb.certificates.AUTHORITY_KIND_ROOT, "", "", "motcua interop root"),
            ("interop-cn01", pb.certificates.AUTHORITY_KIND_INTERMEDIATE, "authorities/interop-root", BRANCH, "CN01"),
        ):
            self.signing.CreateCertificateAuthority(
                pb.signing.CreateCertificateAuthorityRequest(
                    request_id=new_id(),
                    authority_id=authority_id,
                    kind=kind,
                    branch_code=branch,
                    parent=parent,
                    display_name=display,
                    key_algorithm=pb.certificates.KEY_ALGORITHM_ECDSA_P256,
                ),
                metadata=STAFF,
                timeout=CALL_TIMEOUT,
            )
        for subject_kind, holder, display, roles in (
            (pb.certificates.SUBJECT_KIND_PERSON, OFFICER, "Cán bộ tiếp nhận", [pb.certificates.SIGNER_ROLE_OFFICER]),
            (
                pb.certificates.SUBJECT_KIND_PERSON,
                LEADER,
                "Lãnh đạo chi nhánh",
                [pb.certificates.SIGNER_ROLE_OFFICER, pb.certificates.SIGNER_ROLE_APPROVER],
            ),
            (pb.certificates.SUBJECT_KIND_ORGANISATION, BRANCH, "Chi nhánh số 1", []),
        ):
            self.signing.CreateCertificate(
                pb.signing.CreateCertificateRequest(
                    request_id=new_id(),
                    issuer="authorities/interop-cn01",
                    subject_kind=subject_kind,
                    holder_id=holder,
                    display_name=display,
                    branch_code=BRANCH,
                    roles=roles,
                    key_algorithm=pb.certificates.KEY_ALGORITHM_ECDSA_P256,
                ),
                metadata=STAFF,
                timeout=CALL_TIMEOUT,
            )

    def wait_for_intakes_receipts(self, name, filed_at):
        """Waits until the dossier's slip and fee receipt follow-ups are done, each with its receipt's
        signature; the two receipts. A dead-lettered follow-up fails at once with its reason. Prints
        how long after filing the slip was done and signed: a measurement, not a limit."""
        deadline = time.monotonic() + FOLLOW_WAIT_SECONDS
        slip_done_after = None
        wanted = (pb.dossier.FOLLOW_UP_KIND_ACKNOWLEDGEMENT_SLIP, pb.dossier.FOLLOW_UP_KIND_FEE_RECEIPT)
        while True:
            dossier = self.intake.GetDossier(
                pb.intake.GetDossierRequest(name=name, view=pb.dossier.DOSSIER_VIEW_FULL),
                metadata=AGENCY,
                timeout=CALL_TIMEOUT,
            )
            jobs = {job.kind: job for job in dossier.follow_ups}
            slip = jobs.get(pb.dossier.FOLLOW_UP_KIND_ACKNOWLEDGEMENT_SLIP)
            if slip_done_after is None and slip is not None and slip.state == pb.dossier.FOLLOW_UP_STATE_DONE:
                slip_done_after = time.monotonic() - filed_at
            for job in jobs.values():
                self.assertNotEqual(
                    job.state, pb.dossier.FOLLOW_UP_STATE_DEAD_LETTERED, f"dead-lettered: {job.last_error_reason}"
                )
            done = [jobs[kind] for kind in wanted if kind in jobs]
            done = [
                job
                for job in done
                if job.state == pb.dossier.FOLLOW_UP_STATE_DONE and job.HasField("signature_log_index")
            ]
            if len(done) == len(wanted):
                print(
                    f"interop: the slip was done {slip_done_after * 1000:.0f} ms after filing, "
                    f"both receipts signed {(time.monotonic() - filed_at) * 1000:.0f} ms after",
                    file=sys.stderr,
                )
                receipts = [self.wait_for_receipt_signature(job.result) for job in done]
                for job, issued in zip(done, receipts):
                    self.assertEqual(job.lookup_code, issued.lookup_code)
                    self.assertEqual(job.signature_log_index, issued.signature.log_index)
                return receipts
            if time.monotonic() > deadline:
                self.fail(f"intake did not issue the slip and the fee receipt within {FOLLOW_WAIT_SECONDS} s: {jobs}")
            time.sleep(0.02)

    def wait_for_receipt_signature(self, name):
        """Receipt has signing sign a receipt in a background job: the receipt once it is SIGNED."""
        deadline = time.monotonic() + FOLLOW_WAIT_SECONDS
        while True:
            current = self.receipt.GetReceipt(
                pb.receipt.GetReceiptRequest(name=name), metadata=AGENCY, timeout=CALL_TIMEOUT
            )
            if current.signature.state == pb.receipts.SIGNATURE_STATE_SIGNED:
                self.assertTrue(current.signature.signature.startswith("signatures/"))
                return current
            if time.monotonic() > deadline:
                self.fail(f"{name} was not signed within {FOLLOW_WAIT_SECONDS} s: {current.signature}")
            time.sleep(0.1)

    def verify(self, signature, document):
        return self.signing.VerifySignature(
            pb.signing.VerifySignatureRequest(signature=signature, document=document),
            metadata=AGENCY,
            timeout=CALL_TIMEOUT,
        )

    def wait_for_reporting(self, day):
        request = pb.reporting.GetSummaryRequest(
            period=pb.statistics.Period(
                kind=pb.statistics.PERIOD_KIND_DAY, date=pb.date.Date(year=day.year, month=day.month, day=day.day)
            ),
            branch_code=BRANCH,
        )
        deadline = time.monotonic() + FOLLOW_WAIT_SECONDS
        while True:
            counters = self.reporting.GetSummary(request, metadata=AGENCY, timeout=CALL_TIMEOUT).counters
            if counters.ratings_satisfied >= 1:
                return counters
            if time.monotonic() > deadline:
                self.fail(f"reporting did not count the rating within {FOLLOW_WAIT_SECONDS} s: {counters}")
            time.sleep(0.2)


def main():
    """Runs the tests and closes with a plain 'N passed, N failed' line."""
    tests = unittest.defaultTestLoader.loadTestsFromModule(sys.modules[__name__])
    result = unittest.TextTestRunner(verbosity=2).run(tests)
    # One failing test counts once, however many of its subtests failed; an error outside any test
    # (in setUpModule or tearDownModule) counts as one more failure.
    failing = {getattr(test, "test_case", test) for test, _ in result.failures + result.errors}
    failing.update(result.unexpectedSuccesses)
    failing_tests = [test for test in failing if isinstance(test, unittest.TestCase)]
    passed = result.testsRun - len(result.skipped) - len(failing_tests)
    failed = len(failing)
    if failing and suite_log:
        print(f"The end of motcua up's log:\n{suite_log}")
    print(f"interop: {passed} passed, {failed} failed")
    return 0 if result.wasSuccessful() and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
