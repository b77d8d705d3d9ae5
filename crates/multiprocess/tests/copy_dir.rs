//! The copy_dir exercise: a generated tree copied byte-identical by more than one worker,
//! symlinks as symlinks, permissions kept, and every refusal and per-file error.

use std::fs;
use std::os::unix::fs::{PermissionsExt, symlink};
use std::path::Path;

use harness::ExampleProcess;
use multiprocess::copy_dir::{self, Options};
use walkdir::WalkDir;

const OPTIONS: Options = Options {
    workers: 4,
    force: false,
};

/// 200 small files over nested directories, three large ones, an empty one, a symlink (and a
/// dangling one), and modes worth keeping.
fn make_tree(root: &Path) -> u64 {
    let mut bytes = 0;
    for i in 0..200u64 {
        let dir = root.join(format!("d{}/e{}", i % 5, i % 3));
        fs::create_dir_all(&dir).unwrap();
        let content: Vec<u8> = (0..(i * 37 % 3000)).map(|b| (b * 7 + i) as u8).collect();
        bytes += content.len() as u64;
        fs::write(dir.join(format!("small{i}.bin")), content).unwrap();
    }
    for i in 0..3u64 {
        let content: Vec<u8> = (0..(2 << 20) + i * 4097).map(|b| (b % 251) as u8).collect();
        bytes += content.len() as u64;
        fs::write(root.join(format!("large{i}.bin")), content).unwrap();
    }
    fs::create_dir_all(root.join("empty-dir")).unwrap();
    fs::write(root.join("empty.txt"), b"").unwrap();
    let script = b"#!/bin/sh\necho hi\n";
    bytes += script.len() as u64;
    fs::write(root.join("script.sh"), script).unwrap();
    fs::set_permissions(root.join("script.sh"), fs::Permissions::from_mode(0o750)).unwrap();
    fs::set_permissions(root.join("d1"), fs::Permissions::from_mode(0o700)).unwrap();
    symlink("large0.bin", root.join("link-to-large")).unwrap();
    symlink("nowhere", root.join("dangling")).unwrap();
    bytes
}

/// Every entry of `a` is in `b` with the same kind, contents, link target and mode.
fn assert_same_tree(a: &Path, b: &Path) {
    let entries: Vec<_> = WalkDir::new(a)
        .sort_by_file_name()
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let copies = WalkDir::new(b).into_iter().count();
    assert_eq!(entries.len(), copies, "same number of entries");
    for entry in entries {
        let relative = entry.path().strip_prefix(a).unwrap();
        let copy = b.join(relative);
        let (m1, m2) = (
            fs::symlink_metadata(entry.path()).unwrap(),
            fs::symlink_metadata(&copy).unwrap(),
        );
        assert_eq!(m1.file_type(), m2.file_type(), "{}", relative.display());
        if m1.file_type().is_symlink() {
            assert_eq!(
                fs::read_link(entry.path()).unwrap(),
                fs::read_link(&copy).unwrap()
            );
            continue;
        }
        assert_eq!(
            m1.permissions().mode(),
            m2.permissions().mode(),
            "mode of {}",
            relative.display()
        );
        if m1.is_file() {
            assert!(
                fs::read(entry.path()).unwrap() == fs::read(&copy).unwrap(),
                "{} differs",
                relative.display()
            );
        }
    }
}

#[test]
fn a_generated_tree_is_copied_byte_identical_by_several_workers() {
    let _lock = harness::process_lock();
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
    let bytes = make_tree(&src);
    let progress = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let seen = progress.clone();
    let summary = copy_dir::copy_dir(&src, &dst, OPTIONS, move |done| {
        seen.store(done, std::sync::atomic::Ordering::SeqCst)
    })
    .unwrap();
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    assert_eq!(
        (summary.files, summary.bytes, summary.symlinks),
        (205, bytes, 2)
    );
    assert_eq!(
        summary.progress_bytes, bytes,
        "the progress records add up to every byte"
    );
    assert_eq!(
        progress.load(std::sync::atomic::Ordering::SeqCst),
        bytes,
        "the last report was the total"
    );
    assert!(
        summary.workers_used.len() > 1,
        "the pool was used: {:?}",
        summary.workers_used
    );
    assert!(!summary.workers_used.contains(&(std::process::id() as i32)));
    assert_same_tree(&src, &dst);
    harness::leaks::expect_no_zombies(std::time::Duration::from_secs(5)).unwrap();
}

#[test]
fn a_destination_inside_the_source_is_refused() {
    let _lock = harness::process_lock();
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    fs::create_dir_all(src.join("sub")).unwrap();
    for dst in [src.join("copy"), src.join("sub"), src.clone()] {
        let refused = copy_dir::copy_dir(&src, &dst, OPTIONS, |_| {}).unwrap_err();
        assert!(refused.0.contains("inside the source"), "{refused}");
    }
    assert!(!src.join("copy").exists(), "nothing was created");
}

#[test]
fn an_existing_non_empty_destination_needs_force() {
    let _lock = harness::process_lock();
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join("a.txt"), b"new").unwrap();
    fs::create_dir_all(&dst).unwrap();
    fs::write(dst.join("a.txt"), b"old").unwrap();
    let refused = copy_dir::copy_dir(&src, &dst, OPTIONS, |_| {}).unwrap_err();
    assert!(refused.0.contains("--force"), "{refused}");
    assert_eq!(
        fs::read(dst.join("a.txt")).unwrap(),
        b"old",
        "untouched without --force"
    );
    let forced = Options {
        force: true,
        ..OPTIONS
    };
    let summary = copy_dir::copy_dir(&src, &dst, forced, |_| {}).unwrap();
    assert!(summary.errors.is_empty());
    assert_eq!(fs::read(dst.join("a.txt")).unwrap(), b"new");
}

#[test]
fn a_missing_source_is_refused() {
    let _lock = harness::process_lock();
    let tmp = tempfile::tempdir().unwrap();
    let refused = copy_dir::copy_dir(
        &tmp.path().join("nope"),
        &tmp.path().join("dst"),
        OPTIONS,
        |_| {},
    )
    .unwrap_err();
    assert!(refused.0.contains("cannot read the source"), "{refused}");
}

#[test]
fn copy_dir_example_reports_an_uncopyable_file_copies_the_rest_and_exits_1() {
    let _lock = harness::process_lock();
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
    fs::create_dir_all(src.join("inner")).unwrap();
    fs::write(src.join("inner/kept.txt"), b"kept").unwrap();
    fs::write(src.join("also.txt"), b"also").unwrap();
    // Root reads any file, so the uncopyable entry is a FIFO: opening it would block forever.
    nix::unistd::mkfifo(
        &src.join("pipe"),
        nix::sys::stat::Mode::from_bits_truncate(0o644),
    )
    .unwrap();
    let (s, d) = (src.to_str().unwrap(), dst.to_str().unwrap());
    let mut run = ExampleProcess::spawn("copy_dir", &[s, d, "--workers", "2"]).unwrap();
    let summary = run.read_line().unwrap();
    let status = run.wait_within(std::time::Duration::from_secs(10)).unwrap();
    assert_eq!(status.code(), Some(1), "{}", run.stderr_text());
    assert!(summary.starts_with("copied 2 files"), "{summary}");
    let stderr = run.stderr_text();
    assert!(stderr.contains("pipe: not a regular file"), "{stderr}");
    assert_eq!(fs::read(dst.join("inner/kept.txt")).unwrap(), b"kept");
    assert_eq!(fs::read(dst.join("also.txt")).unwrap(), b"also");
}

#[test]
fn copy_dir_example_refuses_to_copy_into_itself_with_status_2() {
    let _lock = harness::process_lock();
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    fs::create_dir_all(&src).unwrap();
    let (s, d) = (src.to_str().unwrap(), src.join("inside"));
    let mut run = ExampleProcess::spawn("copy_dir", &[s, d.to_str().unwrap()]).unwrap();
    let status = run.wait_within(std::time::Duration::from_secs(10)).unwrap();
    assert_eq!(status.code(), Some(2));
    assert!(
        run.stderr_text().contains("inside the source"),
        "{}",
        run.stderr_text()
    );
}

#[test]
fn missing_parents_of_the_destination_are_created_but_never_inside_the_source() {
    let _lock = harness::process_lock();
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join("a.txt"), b"a").unwrap();
    let deep = tmp.path().join("new/deeper/dst");
    let summary = copy_dir::copy_dir(&src, &deep, OPTIONS, |_| {}).unwrap();
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    assert_eq!(fs::read(deep.join("a.txt")).unwrap(), b"a");
    // Not created yet, but it would be inside the source: refused for that reason.
    let refused = copy_dir::copy_dir(&src, &src.join("x/y"), OPTIONS, |_| {}).unwrap_err();
    assert!(refused.0.contains("inside the source"), "{refused}");
    assert!(!src.join("x").exists());
}

const FORCED: Options = Options {
    force: true,
    ..OPTIONS
};

/// SRC with `sub/config.txt`, DST with `sub -> outside` and `outside/config.txt` = "secret".
fn dst_with_a_directory_symlink(tmp: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let (src, dst, outside) = (tmp.join("src"), tmp.join("dst"), tmp.join("outside"));
    fs::create_dir_all(src.join("sub")).unwrap();
    fs::write(src.join("sub/config.txt"), b"copied").unwrap();
    fs::create_dir_all(&dst).unwrap();
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("config.txt"), b"secret").unwrap();
    symlink(&outside, dst.join("sub")).unwrap();
    (src, dst)
}

#[test]
fn a_copy_never_writes_through_a_directory_symlink_in_the_destination() {
    let _lock = harness::process_lock();
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = dst_with_a_directory_symlink(tmp.path());
    let summary = copy_dir::copy_dir(&src, &dst, FORCED, |_| {}).unwrap();
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    assert_eq!(
        fs::read(tmp.path().join("outside/config.txt")).unwrap(),
        b"secret",
        "a file outside DST was overwritten through DST/sub"
    );
    let sub = fs::symlink_metadata(dst.join("sub")).unwrap();
    assert!(sub.is_dir(), "the symlink was replaced by a directory");
    assert_eq!(fs::read(dst.join("sub/config.txt")).unwrap(), b"copied");
    assert_eq!(summary.notes.len(), 1, "{:?}", summary.notes);
}

#[test]
fn a_copy_never_follows_a_planted_temporary_name_or_file_symlink() {
    let _lock = harness::process_lock();
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst, outside) = (
        tmp.path().join("src"),
        tmp.path().join("dst"),
        tmp.path().join("outside"),
    );
    fs::create_dir_all(&src).unwrap();
    fs::write(src.join("a.txt"), b"new a").unwrap();
    fs::write(src.join("b.txt"), b"new b").unwrap();
    fs::create_dir_all(&dst).unwrap();
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("victim"), b"victim").unwrap();
    // The temporary name the copy of a.txt will use, and b.txt itself, point outside.
    symlink(outside.join("victim"), dst.join(".a.txt.copy-tmp")).unwrap();
    symlink(outside.join("victim"), dst.join("b.txt")).unwrap();
    let summary = copy_dir::copy_dir(&src, &dst, FORCED, |_| {}).unwrap();
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    assert_eq!(fs::read(outside.join("victim")).unwrap(), b"victim");
    for (name, content) in [("a.txt", "new a"), ("b.txt", "new b")] {
        assert!(fs::symlink_metadata(dst.join(name)).unwrap().is_file());
        assert_eq!(fs::read_to_string(dst.join(name)).unwrap(), content);
    }
    assert!(!dst.join(".a.txt.copy-tmp").exists());
}

#[test]
fn a_copy_takes_names_that_are_not_utf8() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let _lock = harness::process_lock();
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
    let latin1 = OsStr::from_bytes(b"caf\xe9");
    fs::create_dir_all(src.join(latin1)).unwrap();
    fs::write(src.join(latin1).join(latin1), b"latin-1 name").unwrap();
    fs::write(src.join("plain.txt"), b"plain").unwrap();
    let summary = copy_dir::copy_dir(&src, &dst, OPTIONS, |_| {}).unwrap();
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    assert_eq!((summary.files, summary.dirs), (2, 2));
    assert_same_tree(&src, &dst);
    assert_eq!(
        fs::read(dst.join(latin1).join(latin1)).unwrap(),
        b"latin-1 name"
    );
}

#[test]
fn a_copy_of_a_sparse_file_stays_sparse() {
    use std::os::unix::fs::{FileExt, MetadataExt};
    let _lock = harness::process_lock();
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = (tmp.path().join("src"), tmp.path().join("dst"));
    fs::create_dir_all(&src).unwrap();
    // 16 MiB long: a hole, 4 KiB of data at 8 MiB, and a trailing hole.
    let file = fs::File::create(src.join("image")).unwrap();
    file.set_len(16 << 20).unwrap();
    file.write_all_at(&[7u8; 4096], 8 << 20).unwrap();
    drop(file);
    let summary = copy_dir::copy_dir(&src, &dst, OPTIONS, |_| {}).unwrap();
    assert!(summary.errors.is_empty(), "{:?}", summary.errors);
    assert_eq!(summary.progress_bytes, 16 << 20, "holes count as copied");
    let (original, copy) = (
        fs::metadata(src.join("image")).unwrap(),
        fs::metadata(dst.join("image")).unwrap(),
    );
    assert_eq!(copy.len(), original.len());
    // 512-byte blocks: the original holds a few; a copy that wrote the zeros holds 32768.
    assert!(
        copy.blocks() <= original.blocks() + 64,
        "the copy takes {} blocks, the original {}",
        copy.blocks(),
        original.blocks()
    );
    assert!(fs::read(src.join("image")).unwrap() == fs::read(dst.join("image")).unwrap());
}

#[test]
fn copy_dir_example_reports_a_replaced_symlink_and_writes_nothing_outside() {
    let _lock = harness::process_lock();
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst) = dst_with_a_directory_symlink(tmp.path());
    let (s, d) = (src.to_str().unwrap(), dst.to_str().unwrap());
    let mut run = ExampleProcess::spawn("copy_dir", &[s, d, "--force"]).unwrap();
    let summary = run.read_line().unwrap();
    run.expect_success().unwrap();
    assert!(summary.starts_with("copied 1 file"), "{summary}");
    assert!(
        run.stderr_text()
            .contains("note: sub: a symlink in the destination, replaced by a directory"),
        "{}",
        run.stderr_text()
    );
    assert_eq!(
        fs::read(tmp.path().join("outside/config.txt")).unwrap(),
        b"secret"
    );
}
