<?php
/**
 * Removes the plugin's settings (service URL, API key, timeout) when the plugin is deleted.
 *
 * @package Claimsift
 */

if ( ! defined( 'WP_UNINSTALL_PLUGIN' ) ) {
	exit;
}

delete_option( 'claimsift_settings' );
