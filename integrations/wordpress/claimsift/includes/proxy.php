<?php
/**
 * POST /wp-json/claimsift/v1/analyze: the editor's blocks in, the service's per-block result out.
 *
 * The route runs on the WordPress server, adds the API key there and forwards to the service's
 * POST /v1/extract with {"blocks": [...]}; the browser only ever talks to WordPress (with its REST
 * nonce), so the key never reaches it. Each block's text is the plain text of its rich-text value, so the
 * service's UTF-16 offsets are positions in exactly the string the block editor annotates.
 *
 * @package Claimsift
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Registers the proxy route.
 */
function claimsift_register_routes() {
	register_rest_route(
		'claimsift/v1',
		'/analyze',
		array(
			'methods'             => 'POST',
			'callback'            => 'claimsift_analyze',
			'permission_callback' => 'claimsift_can_check_posts',
			'args'                => array(
				'blocks' => array(
					'required'          => true,
					'type'              => 'array',
					'validate_callback' => 'claimsift_validate_blocks',
				),
			),
		)
	);
}

/**
 * Blocks must be a non-empty list of {id, text} strings, within the request limit.
 *
 * @param mixed $blocks The `blocks` parameter.
 * @return true|WP_Error
 */
function claimsift_validate_blocks( $blocks ) {
	if ( ! is_array( $blocks ) || 0 === count( $blocks ) ) {
		return new WP_Error( 'claimsift_no_blocks', __( 'blocks must be a non-empty list', 'claimsift' ), array( 'status' => 400 ) );
	}
	if ( count( $blocks ) > CLAIMSIFT_MAX_BLOCKS ) {
		/* translators: %d: the most blocks one request may carry. */
		return new WP_Error( 'claimsift_too_many_blocks', sprintf( __( 'at most %d blocks per request', 'claimsift' ), CLAIMSIFT_MAX_BLOCKS ), array( 'status' => 413 ) );
	}
	foreach ( $blocks as $block ) {
		if ( ! is_array( $block ) || ! isset( $block['id'], $block['text'] ) || ! is_string( $block['id'] ) || ! is_string( $block['text'] ) ) {
			return new WP_Error( 'claimsift_bad_block', __( 'each block needs a string id and a string text', 'claimsift' ), array( 'status' => 400 ) );
		}
	}
	return true;
}

/**
 * Forwards the blocks to the service and passes its answer (or its error) back to the editor.
 *
 * @param WP_REST_Request $request The editor's request.
 * @return array|WP_Error
 */
function claimsift_analyze( WP_REST_Request $request ) {
	$blocks = array();
	foreach ( $request->get_param( 'blocks' ) as $block ) {
		$blocks[] = array(
			'id'   => $block['id'],
			'text' => $block['text'],
		);
	}
	return claimsift_service_extract( array( 'blocks' => $blocks ) );
}

/**
 * Who may send text to the service: a logged-in user who can edit posts (cookie + REST nonce, or an
 * application password); everyone else gets a 403.
 *
 * @return true|WP_Error
 */
function claimsift_can_check_posts() {
	return current_user_can( 'edit_posts' ) ? true : claimsift_forbidden();
}
