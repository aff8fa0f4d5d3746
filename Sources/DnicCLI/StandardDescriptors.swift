import Foundation

/// Descriptors 0, 1 and 2 as every program expects them to be.
///
/// A program started with one of them closed (`dnic … >&-`, as cron and
/// daemon wrappers do) would hand that number to the next file it opens:
/// with standard output closed, `--log run.jsonl` became descriptor 1 and
/// the human-readable lines went into the JSON Lines log. Each closed one
/// is reopened on /dev/null before anything else is opened, so output
/// meant for it is discarded, and no file dnic opens can take its place.
enum StandardDescriptors {
    static func reopenClosed() {
        for fd in [STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO] where fcntl(fd, F_GETFD) == -1 && errno == EBADF {
            let null = open("/dev/null", O_RDWR) // the lowest free number: `fd` itself
            if null == fd { continue }
            // no /dev/null (a bare chroot): no descriptor can be made safe, so nothing may be opened
            if null < 0 { _exit(1) }
            dup2(null, fd)
            close(null)
        }
    }
}
