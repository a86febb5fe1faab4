"""Deleting the plugin (deactivate, then delete, through WordPress's own REST plugin endpoints) removes
its options, every post's stored check and queue mark, and its WP-Cron event. Runs last: the plugin is
gone afterwards."""

from __future__ import annotations

from playwright.sync_api import BrowserContext
from wordpress_site import Site, create_post, rest_nonce

LEFTOVERS = """array(
    'options' => array_values( array_filter( array( 'claimsift_settings', 'claimsift_queue_status' ),
        function ( $name ) { return false !== get_option( $name ); } ) ),
    'meta_rows' => (int) $wpdb->get_var(
        "SELECT COUNT(*) FROM {$wpdb->postmeta} WHERE meta_key LIKE '\\\\_claimsift\\\\_%'" ),
    'cron' => (bool) wp_next_scheduled( 'claimsift_process_queue' ),
    'plugin_files' => file_exists( WP_PLUGIN_DIR . '/claimsift/claimsift.php' ),
)"""


def test_deleting_the_plugin_removes_its_options_post_meta_and_cron_event(
    admin: BrowserContext, site: Site
) -> None:
    # Something to remove: a queued post with its cron event, on top of the earlier tests' results.
    queued = create_post(site, "Queued", "<p>It rained.</p>", status="draft")
    site.php("claimsift_enqueue_posts( $data );", [queued])
    before = site.php_json(LEFTOVERS)
    assert before["options"] == ["claimsift_settings", "claimsift_queue_status"]
    assert before["meta_rows"] > 0
    assert before["plugin_files"]

    headers = {"X-WP-Nonce": rest_nonce(admin, site)}
    plugin = f"{site.url}/wp-json/wp/v2/plugins/claimsift/claimsift"
    deactivated = admin.request.post(plugin, data={"status": "inactive"}, headers=headers)
    assert deactivated.status == 200, deactivated.text()
    assert site.php_json(LEFTOVERS)["cron"] is False  # deactivation stops the queue
    deleted = admin.request.delete(plugin, headers=headers)
    assert deleted.status == 200, deleted.text()

    assert site.php_json(LEFTOVERS) == {"options": [], "meta_rows": 0, "cron": False, "plugin_files": False}
