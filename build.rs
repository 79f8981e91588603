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
    if os == "linux" && env == "gnu" && !static_crt {
        println!("cargo:rustc-link-lib=static:-bundle=gcc_eh");
        // src/unwind_shim.rs: keeps libgcc_eh's _dl_find_object off GLIBC_2.35.
        println!("cargo:rustc-cfg=kc_static_unwind");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
