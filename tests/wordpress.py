"""A real WordPress for the tests: Debian's package (/usr/share/wordpress), copied into a
folder of its own, on an Apache of its own (Debian's apache2 and mod_php, started with a
configuration written here), with a MariaDB database of its own (created on 127.0.0.1:3306 as
root, dropped afterwards). The plugin is installed from the zip that
scripts/build-wordpress-plugin makes, as a partner would install it.

Posts are written through WordPress's own functions as the user who would write them, so an
Author's and a Contributor's posts pass through kses (their role has no unfiltered_html), as
they do when saved from the editor."""

from __future__ import annotations

import contextlib
import glob
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
WORDPRESS = Path("/usr/share/wordpress")
THEME = WORDPRESS / "wp-content" / "themes" / "twentytwentythree"
APACHE = shutil.which("apache2", path=os.environ.get("PATH", "") + ":/usr/sbin") or ""
MODULES = Path("/usr/lib/apache2/modules")
MARIADB = ["mariadb", "--host=127.0.0.1", "--port=3306", "--user=root"]
PACKAGES = (
    "wordpress wordpress-theme-twentytwentythree apache2 libapache2-mod-php php-mysql php-cli"
)


def missing() -> str | None:
    """Why a real WordPress cannot run here, or None."""
    if not (WORDPRESS / "wp-load.php").is_file() or not THEME.is_dir():
        return f"WordPress is not installed (apt-get install {PACKAGES})"
    if not APACHE or not glob.glob(str(MODULES / "libphp*.so")):
        return f"Apache with mod_php is not installed (apt-get install {PACKAGES})"
    if not shutil.which("php"):
        return f"php-cli is not installed (apt-get install {PACKAGES})"
    if not shutil.which(MARIADB[0]):
        return "the mariadb client is not installed"
    try:
        subprocess.run([*MARIADB, "-e", "SELECT 1"], check=True, capture_output=True, timeout=10)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as exc:
        return f"MariaDB does not answer on 127.0.0.1:3306 as root: {exc}"
    return None


@dataclass
class WordPress:
    url: str
    root: Path
    folder: Path
    posts: dict[str, str]  # a post's name in POSTS → its URL
    password: str  # every user's: admin, editor, author, contributor

    def php(self, code: str, *, user: str | None = None) -> str:
        """PHP run inside this WordPress (as `user`, when given); what it printed."""
        script = self.folder / f"run-{secrets.token_hex(4)}.php"
        login = f"wp_set_current_user(get_user_by('login', '{user}')->ID);" if user else ""
        script.write_text(f"<?php\nrequire '{self.root}/wp-load.php';\n{login}\n{code}\n")
        return _php(script)

    def log(self) -> str:
        """What PHP and WordPress reported while serving (notices, warnings, errors)."""
        found = [self.folder / "logs" / name for name in ("debug.log", "php.log", "error.log")]
        return "".join(path.read_text(errors="replace") for path in found if path.exists())


def _php(script: Path) -> str:
    done = subprocess.run(["php", str(script)], capture_output=True, text=True, timeout=60)
    if done.returncode != 0 or "Fatal error" in done.stdout:
        raise RuntimeError(f"php {script.name} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


CONFIG = """<?php
define( 'DB_NAME', '{database}' );
define( 'DB_USER', 'root' );
define( 'DB_PASSWORD', '' );
define( 'DB_HOST', '127.0.0.1:3306' );
define( 'DB_CHARSET', 'utf8mb4' );
define( 'DB_COLLATE', '' );
{keys}
$table_prefix = 'wp_';
define( 'WP_HOME', '{url}' );
define( 'WP_SITEURL', '{url}' );
define( 'WP_DEBUG', true );
define( 'WP_DEBUG_LOG', '{folder}/logs/debug.log' );
define( 'WP_DEBUG_DISPLAY', false );
define( 'DISABLE_WP_CRON', true );
// Common hardening: nobody, not even an Administrator, may post scripts or iframes. The
// plugin's shortcode, block and URL embed do not depend on that right.
define( 'DISALLOW_UNFILTERED_HTML', true );
define( 'AUTOMATIC_UPDATER_DISABLED', true );
// Only this machine: WordPress would otherwise call wordpress.org and wait for it.
define( 'WP_HTTP_BLOCK_EXTERNAL', true );
define( 'WP_ACCESSIBLE_HOSTS', '127.0.0.1,localhost' );
if ( ! defined( 'ABSPATH' ) ) {{
	define( 'ABSPATH', __DIR__ . '/' );
}}
require_once ABSPATH . 'wp-settings.php';
"""

APACHE_CONFIG = """ServerRoot "{folder}"
ServerName localhost
Listen 127.0.0.1:{port}
PidFile "{folder}/run/apache.pid"
DefaultRuntimeDir "{folder}/run"
Mutex file:{folder}/run
{user}
LoadModule mpm_prefork_module {modules}/mod_mpm_prefork.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule dir_module {modules}/mod_dir.so
LoadModule mime_module {modules}/mod_mime.so
LoadModule php_module {php}
StartServers 2
MinSpareServers 2
MaxSpareServers 4
MaxRequestWorkers 8
TypesConfig /etc/mime.types
ErrorLog "{folder}/logs/error.log"
LogLevel warn
DocumentRoot "{root}"
DirectoryIndex index.php
<Directory />
    Require all denied
    AllowOverride None
</Directory>
<Directory "{root}">
    Require all granted
</Directory>
<FilesMatch "\\.php$">
    SetHandler application/x-httpd-php
</FilesMatch>
php_admin_value error_log "{folder}/logs/php.log"
"""

# The service listens on 127.0.0.1 and a high port here, which WordPress's "safe" requests
# (oEmbed discovery) refuse; on the Internet it is an external host on 443 like any other.
LOOPBACK = """<?php
add_filter( 'http_request_host_is_external', '__return_true' );
add_filter( 'http_allowed_safe_ports', function ( $ports, $host, $url ) {
	$ports[] = (int) wp_parse_url( $url, PHP_URL_PORT );
	return $ports;
}, 10, 3 );
"""

INSTALL = """<?php
define( 'WP_INSTALLING', true );
require '{root}/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
wp_install( 'A partner site', 'admin', 'admin@partner.example', false, '', '{password}' );
"""

# The posts the suite reads, each written by the role that would write it. SERVICE is the
# service's origin.
POSTS = {
    # The shortcode, by an Author (no unfiltered_html) and by a Contributor (published by an
    # Editor afterwards, as a Contributor cannot publish).
    "author-shortcode": ("author", '[petition campaign="belarus" partner="demo" lang="en"]'),
    "contributor-shortcode": ("contributor", '[petition campaign="belarus" lang="fr"]'),
    # The block, as the block editor saves it.
    "author-block": (
        "author",
        '<!-- wp:petition-widget/petition {"campaign":"belarus","partner":"demo","lang":"en"} /-->',
    ),
    # A hosted-petition URL on a line of its own, in a classic post and as the block editor's
    # Embed block saves a pasted URL.
    "author-url": ("author", "Sign below.\n\nSERVICE/c/belarus?partner=demo&lang=en\n\nThanks."),
    "author-embed-block": (
        "author",
        '<!-- wp:embed {"url":"SERVICE/c/belarus?lang=en"} -->\n'
        '<figure class="wp-block-embed"><div class="wp-block-embed__wrapper">\n'
        "SERVICE/c/belarus?lang=en\n</div></figure>\n<!-- /wp:embed -->",
    ),
    # The README's snippet pasted by an Author: WordPress strips the script, the link stays.
    "author-snippet": (
        "author",
        '<!-- wp:html -->\n<a href="SERVICE/c/belarus?partner=demo&amp;lang=en" '
        'data-campaign="belarus" data-partner="demo" data-lang="en">Sign the petition</a>\n'
        '<script async src="SERVICE/embed.js"></script>\n<!-- /wp:html -->',
    ),
    # An Administrator under DISALLOW_UNFILTERED_HTML: the service's snippet loses its script
    # too, and the shortcode works.
    "administrator-snippet": (
        "administrator",
        '<!-- wp:html -->\n<a href="SERVICE/c/belarus?lang=en" data-campaign="belarus" '
        'data-lang="en">Sign the petition</a>\n<script async src="SERVICE/embed.js"></script>'
        "\n<!-- /wp:html -->",
    ),
    "administrator-shortcode": ("administrator", '[petition campaign="belarus" lang="en"]'),
    # Click-to-load, the form and the counter.
    "author-click": ("author", '[petition campaign="belarus" lang="en" load="click"]'),
    "author-counter-click": (
        "author",
        '[petition campaign="belarus" mode="counter" lang="ru" load="click"]',
    ),
    # A mistake: readers see nothing of it.
    "author-mistake": ("author", '[petition campaign="Not a slug!"]\n\nThe text goes on.'),
}

SETUP = """<?php
require '{root}/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
$done = activate_plugin( 'petition-widget/petition-widget.php' );
if ( is_wp_error( $done ) ) {{ fwrite( STDERR, $done->get_error_message() ); exit( 1 ); }}
update_option( 'petition_widget_service', '{service}' );
$users = array();
$users['administrator'] = get_user_by( 'login', 'admin' )->ID;
foreach ( array( 'author', 'contributor', 'editor' ) as $role ) {{
	$users[ $role ] = wp_insert_user( array(
		'user_login' => $role, 'user_pass' => '{password}', 'role' => $role,
		'user_email' => $role . '@partner.example',
	) );
}}
$urls = array();
foreach ( json_decode( '{posts}', true ) as $name => $post ) {{
	list( $role, $content ) = $post;
	wp_set_current_user( $users[ $role ] );  // kses applies as it does in the editor
	$id = wp_insert_post( wp_slash( array(
		'post_title' => $name, 'post_content' => $content,
		'post_status' => 'contributor' === $role ? 'pending' : 'publish',
	) ), true );
	if ( is_wp_error( $id ) ) {{ fwrite( STDERR, $id->get_error_message() ); exit( 1 ); }}
	if ( 'contributor' === $role ) {{
		wp_set_current_user( $users['editor'] );
		wp_publish_post( $id );
	}}
	$urls[ $name ] = get_permalink( $id );
}}
echo json_encode( $urls );
"""


def build_plugin(folder: Path) -> Path:
    """The plugin's zip, built by the release's script."""
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build-wordpress-plugin"), str(folder)],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return Path(done.stdout.strip())


@contextlib.contextmanager
def running_wordpress(service_url: str, port: int) -> Iterator[WordPress]:
    """WordPress on http://localhost:PORT with the plugin active, set to `service_url`, and
    the posts of POSTS published."""
    folder = Path(tempfile.mkdtemp(prefix="pw-wordpress-"))
    folder.chmod(0o755)  # Apache's workers (www-data, when the tests run as root) read it
    database = "pw_wp_" + secrets.token_hex(6)
    url = f"http://localhost:{port}"
    apache: subprocess.Popen[bytes] | None = None
    try:
        root = folder / "wordpress"
        shutil.copytree(WORDPRESS, root, symlinks=True)
        with zipfile.ZipFile(build_plugin(folder / "dist")) as plugin:
            plugin.extractall(root / "wp-content" / "plugins")
        mu_plugins = root / "wp-content" / "mu-plugins"
        mu_plugins.mkdir()
        (mu_plugins / "loopback.php").write_text(LOOPBACK)
        for name in ("logs", "run"):
            (folder / name).mkdir()
            (folder / name).chmod(0o777)
        for name in ("debug.log", "php.log"):  # written by the CLI and by Apache's workers
            (folder / "logs" / name).touch(0o666)
            (folder / "logs" / name).chmod(0o666)
        keys = "\n".join(
            f"define( '{name}', '{secrets.token_hex(32)}' );"
            for name in ("AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY", "NONCE_KEY",
                         "AUTH_SALT", "SECURE_AUTH_SALT", "LOGGED_IN_SALT", "NONCE_SALT")
        )  # fmt: skip
        (root / "wp-config.php").write_text(
            CONFIG.format(database=database, keys=keys, url=url, folder=folder)
        )
        subprocess.run([*MARIADB, "-e", f"CREATE DATABASE {database}"], check=True)
        password = secrets.token_urlsafe(12)
        (folder / "install.php").write_text(INSTALL.format(root=root, password=password))
        _php(folder / "install.php")
        posts = {
            name: (role, body.replace("SERVICE", service_url))
            for name, (role, body) in POSTS.items()
        }
        (folder / "setup.php").write_text(
            SETUP.format(root=root, service=service_url, password=password,
                         posts=json.dumps(posts).replace("\\", "\\\\").replace("'", "\\'"))
        )  # fmt: skip
        urls = json.loads(_php(folder / "setup.php"))
        (folder / "apache.conf").write_text(
            APACHE_CONFIG.format(
                folder=folder, port=port, root=root, modules=MODULES,
                php=sorted(glob.glob(str(MODULES / "libphp*.so")))[-1],
                user="User www-data\nGroup www-data" if os.geteuid() == 0 else "",
            )
        )  # fmt: skip
        with (folder / "logs" / "apache.out").open("wb") as out:
            apache = subprocess.Popen(
                [APACHE, "-f", str(folder / "apache.conf"), "-DFOREGROUND"],
                stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,  # stopping, Apache signals its whole process group
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            if apache.poll() is not None:
                raise RuntimeError((folder / "logs" / "apache.out").read_text())
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + "/", timeout=5).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("WordPress did not answer within 30 s")
            time.sleep(0.2)
        yield WordPress(url=url, root=root, folder=folder, posts=urls, password=password)
    finally:
        if apache is not None:
            apache.terminate()
            try:
                apache.wait(timeout=15)
            except subprocess.TimeoutExpired:
                apache.kill()
                apache.wait()
        subprocess.run([*MARIADB, "-e", f"DROP DATABASE IF EXISTS {database}"], check=False)
        shutil.rmtree(folder, ignore_errors=True)
