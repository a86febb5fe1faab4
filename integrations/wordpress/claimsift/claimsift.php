<?php
/**
 * Plugin Name:       Claimsift
 * Description:       Labels each sentence of a post as fact, assessment or prescription while you write, and checks existing posts in the background, using a claimsift service. The API key stays on the server.
 * Version:           0.2.0
 * Requires at least: 6.3
 * Requires PHP:      7.4
 * Author:            claimsift
 * License:           Apache-2.0
 * Text Domain:       claimsift
 *
 * @package Claimsift
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit; // Loaded only by WordPress.
}

define( 'CLAIMSIFT_VERSION', '0.2.0' );
define( 'CLAIMSIFT_OPTION', 'claimsift_settings' );
// Keeps one editor request within the service's limits (CLAIMSIFT_MAX_BLOCKS defaults to 512).
define( 'CLAIMSIFT_MAX_BLOCKS', 500 );
// Posts one WP-Cron run checks; the rest wait for the next run. Overridable in wp-config.php.
if ( ! defined( 'CLAIMSIFT_BATCH_SIZE' ) ) {
	define( 'CLAIMSIFT_BATCH_SIZE', 5 );
}
// Seconds before the queue is retried after the service failed; doubles per consecutive failure, up to
// CLAIMSIFT_RETRY_MAX_DELAY. Both overridable in wp-config.php.
if ( ! defined( 'CLAIMSIFT_RETRY_DELAY' ) ) {
	define( 'CLAIMSIFT_RETRY_DELAY', 60 );
}
if ( ! defined( 'CLAIMSIFT_RETRY_MAX_DELAY' ) ) {
	define( 'CLAIMSIFT_RETRY_MAX_DELAY', 3600 );
}

require_once __DIR__ . '/includes/settings.php';
require_once __DIR__ . '/includes/service.php';
require_once __DIR__ . '/includes/proxy.php';
require_once __DIR__ . '/includes/results.php';
require_once __DIR__ . '/includes/queue.php';
require_once __DIR__ . '/includes/posts-list.php';

add_action( 'admin_init', 'claimsift_register_settings' );
add_action( 'admin_menu', 'claimsift_add_settings_page' );
add_action( 'rest_api_init', 'claimsift_register_routes' );
add_action( 'rest_api_init', 'claimsift_register_result_route' );
add_action( 'enqueue_block_editor_assets', 'claimsift_enqueue_editor_assets' );
add_action( 'enqueue_block_assets', 'claimsift_enqueue_highlight_styles' );
add_action( CLAIMSIFT_QUEUE_HOOK, 'claimsift_process_queue' );
add_action( 'admin_init', 'claimsift_register_posts_list' );
register_deactivation_hook( __FILE__, 'claimsift_unschedule_queue' );

/**
 * The block-editor script and the sidebar's styles; the script talks only to this site's REST routes,
 * never to the service.
 */
function claimsift_enqueue_editor_assets() {
	if ( ! current_user_can( 'edit_posts' ) ) {
		return;
	}
	wp_enqueue_script(
		'claimsift-editor',
		plugins_url( 'assets/editor.js', __FILE__ ),
		array( 'wp-plugins', 'wp-edit-post', 'wp-editor', 'wp-element', 'wp-components', 'wp-data', 'wp-api-fetch', 'wp-rich-text', 'wp-annotations', 'wp-i18n' ),
		CLAIMSIFT_VERSION,
		true
	);
	wp_enqueue_style(
		'claimsift-editor',
		plugins_url( 'assets/editor.css', __FILE__ ),
		array(),
		CLAIMSIFT_VERSION
	);
}

/**
 * The highlight colours. The post content is edited inside an iframe, which gets only what is enqueued
 * on enqueue_block_assets; only in the admin, so the site's front end never loads them.
 */
function claimsift_enqueue_highlight_styles() {
	if ( ! is_admin() || ! current_user_can( 'edit_posts' ) ) {
		return;
	}
	wp_enqueue_style(
		'claimsift-highlights',
		plugins_url( 'assets/highlights.css', __FILE__ ),
		array(),
		CLAIMSIFT_VERSION
	);
}

/**
 * The error every route and action answers when the user may not do what was asked: a 403, also for a
 * request without a login (WordPress's default would be 401 there).
 *
 * @return WP_Error
 */
function claimsift_forbidden() {
	return new WP_Error( 'claimsift_forbidden', __( 'Sorry, you are not allowed to do that.', 'claimsift' ), array( 'status' => 403 ) );
}
