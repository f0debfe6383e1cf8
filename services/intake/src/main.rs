//! The `motcua-intake` binary: `serve` (default) or `migrate`; configuration from MOTCUA_* and OTEL_*.

fn main() -> std::process::ExitCode {
    motcua_chassis::service::main::<motcua_intake::Intake>()
}
