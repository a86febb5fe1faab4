<?php
/**
 * Deleting the plugin removes everything it stored: its options (settings with the API key, the queue's
 * status), the stored checks and queue marks on every post, and the queue's WP-Cron event. WordPress runs
 * this file without loading the plugin, so the names are spelled out here (the same as in
 * claimsift.php, includes/queue.php and includes/results.php).
 *
 * @package Claimsift
 */

if ( ! defined( 'WP_UNINSTALL_PLUGIN' ) ) {
	exit;
}

delete_option( 'claimsift_settings' );
delete_option( 'claimsift_queue_status' );
foreach ( array( '_claimsift_result', '_claimsift_share', '_claimsift_error', '_claimsift_queued' ) as $claimsift_meta_key ) {
	delete_post_meta_by_key( $claimsift_meta_key );
}
wp_clear_scheduled_hook( 'claimsift_process_queue' );
