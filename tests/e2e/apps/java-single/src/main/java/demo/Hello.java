package demo;

import com.sun.security.auth.module.UnixSystem;

/** Says who runs it and with which Java. */
public class Hello {
    public static void main(String[] args) {
        UnixSystem unix = new UnixSystem();
        System.out.printf("hello from maven-built java %s uid=%d gid=%d cwd=%s%n",
            System.getProperty("java.version"), unix.getUid(), unix.getGid(), System.getProperty("user.dir"));
    }
}
