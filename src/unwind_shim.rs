//! `_dl_find_object` for the statically linked unwinder (see build.rs).
//!
//! GCC 12+'s libgcc_eh.a, when built against glibc 2.35+, finds unwind tables with
//! `_dl_find_object@GLIBC_2.35`, which would raise the binaries' glibc floor above 2.34.
//! This definition, found by the linker before libc's, does the same job with
//! `dl_iterate_phdr` (glibc 2.2.5). With `panic = "abort"` it only ever serves backtraces.

use std::ffi::{c_int, c_void};

/// glibc's `struct dl_find_object` on x86_64 (no `dlfo_eh_dbase` there).
#[repr(C)]
pub struct DlFindObject {
    flags: u64,
    map_start: *mut c_void,
    map_end: *mut c_void,
    link_map: *mut c_void,
    eh_frame: *mut c_void,
    reserved: [u64; 7],
}

struct Search {
    pc: usize,
    found: Option<(usize, usize, usize)>,
}

unsafe extern "C" fn visit(info: *mut libc::dl_phdr_info, _: usize, data: *mut c_void) -> c_int {
    let search = &mut *data.cast::<Search>();
    let info = &*info;
    if info.dlpi_phdr.is_null() || info.dlpi_phnum == 0 {
        return 0;
    }
    let phdrs = std::slice::from_raw_parts(info.dlpi_phdr, usize::from(info.dlpi_phnum));
    let base = info.dlpi_addr as usize;
    let (mut start, mut end, mut hit, mut eh) = (usize::MAX, 0, false, 0);
    for ph in phdrs {
        let from = base + ph.p_vaddr as usize;
        match ph.p_type {
            libc::PT_LOAD => {
                let to = from + ph.p_memsz as usize;
                start = start.min(from);
                end = end.max(to);
                hit |= (from..to).contains(&search.pc);
            }
            libc::PT_GNU_EH_FRAME => eh = from,
            _ => {}
        }
    }
    if hit {
        search.found = Some((start, end, eh));
        return 1;
    }
    0
}

/// Finds the loaded object containing `address` and its `PT_GNU_EH_FRAME`.
///
/// # Safety
/// `result` must point to a writable `struct dl_find_object`.
#[no_mangle]
pub unsafe extern "C" fn _dl_find_object(address: *mut c_void, result: *mut DlFindObject) -> c_int {
    let mut search = Search {
        pc: address as usize,
        found: None,
    };
    libc::dl_iterate_phdr(Some(visit), (&mut search as *mut Search).cast());
    match search.found {
        Some((start, end, eh)) if eh != 0 => {
            result.write(DlFindObject {
                flags: 0,
                map_start: start as *mut c_void,
                map_end: end as *mut c_void,
                link_map: std::ptr::null_mut(),
                eh_frame: eh as *mut c_void,
                reserved: [0; 7],
            });
            0
        }
        _ => -1,
    }
}
