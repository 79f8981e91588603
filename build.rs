//! Links the unwinder statically (libgcc_eh.a, as `+crt-static` builds do) instead of
//! libgcc_s.so.1: with `panic = "abort"` nothing unwinds, and loading and relocating one
//! shared library less is a measurable part of a check's start-up. With LTO the whole
//! program is one object that comes before std's `-lgcc_s` on the link line, so the
//! `_Unwind_*` symbols resolve here and `--as-needed` drops libgcc_s from DT_NEEDED.
fn main() {
    println!("cargo:rustc-check-cfg=cfg(kc_static_unwind)");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    let static_crt = std::env::var("CARGO_CFG_TARGET_FEATURE")
        .map(|f| f.split(',').any(|f| f == "crt-static"))
        .unwrap_or(false);
    // The shim's `struct dl_find_object` is x86_64's. KEEPALIVED_CHECKS_DYNAMIC_UNWIND=1
    // keeps libgcc_s (toolchains without libgcc_eh.a, e.g. some cross linkers).
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let dynamic = std::env::var_os("KEEPALIVED_CHECKS_DYNAMIC_UNWIND").is_some();
    println!("cargo:rerun-if-env-changed=KEEPALIVED_CHECKS_DYNAMIC_UNWIND");
    if os == "linux" && env == "gnu" && arch == "x86_64" && !static_crt && !dynamic {
        println!("cargo:rustc-link-lib=static:-bundle=gcc_eh");
        // src/unwind_shim.rs: keeps libgcc_eh's _dl_find_object off GLIBC_2.35.
        println!("cargo:rustc-cfg=kc_static_unwind");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
