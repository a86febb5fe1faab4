<?php
/**
 * Plugin Name:       Claimsift
 * Description:       Labels each sentence of a post as fact, assessment or prescription while you write, using a claimsift service. The API key stays on the server.
 * Version:           0.1.0
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

define( 'CLAIMSIFT_VERSION', '0.1.0' );
define( 'CLAIMSIFT_OPTION', 'claimsift_settings' );
// Keeps one editor request within the service's limits (CLAIMSIFT_MAX_BLOCKS defaults to 512).
define( 'CLAIMSIFT_MAX_BLOCKS', 500 );

require_once __DIR__ . '/includes/settings.php';
require_once __DIR__ . '/includes/proxy.php';

add_action( 'admin_init', 'claimsift_register_settings' );
add_action( 'admin_menu', 'claimsift_add_settings_page' );
add_action( 'rest_api_init', 'claimsift_register_routes' );
add_action( 'enqueue_block_editor_assets', 'claimsift_enqueue_editor_assets' );

/**
 * The block-editor script and its styles; it talks only to this site's REST route, never to the service.
 */
function claimsift_enqueue_editor_assets() {
	if ( ! current_user_can( 'edit_posts' ) ) {
		return;
	}
	wp_enqueue_script(
		'claimsift-editor',
		plugins_url( 'assets/editor.js', __FILE__ ),
		array( 'wp-plugins', 'wp-edit-post', 'wp-element', 'wp-components', 'wp-data', 'wp-api-fetch', 'wp-rich-text', 'wp-annotations', 'wp-i18n' ),
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
