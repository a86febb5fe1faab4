<?php
/**
 * A post's stored check, kept as post meta (never in the post content), and the route the editor reads it
 * from: GET /wp-json/claimsift/v1/posts/<id>.
 *
 * Meta keys start with an underscore, so they stay out of the Custom Fields box:
 *   _claimsift_result  {counts, model: {name, version}, checked_at, content_hash, sentences: [{text, label,
 *                      confidence, uncertain}]}
 *   _claimsift_share   share of assessment + prescription sentences, "0.4211" (the posts list sorts by it)
 *   _claimsift_error   why the last background check of this post failed for good
 *   _claimsift_queued  time the post was queued (see queue.php)
 *
 * @package Claimsift
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

define( 'CLAIMSIFT_META_RESULT', '_claimsift_result' );
define( 'CLAIMSIFT_META_SHARE', '_claimsift_share' );
define( 'CLAIMSIFT_META_ERROR', '_claimsift_error' );
define( 'CLAIMSIFT_META_QUEUED', '_claimsift_queued' );
// Every meta key the plugin writes: uninstall.php deletes the same list.
define( 'CLAIMSIFT_META_KEYS', array( CLAIMSIFT_META_RESULT, CLAIMSIFT_META_SHARE, CLAIMSIFT_META_ERROR, CLAIMSIFT_META_QUEUED ) );

/**
 * Stores the service's answer for a post: counts, model, time, and each sentence's label.
 *
 * @param WP_Post $post   The checked post.
 * @param array   $result The /v1/extract answer.
 */
function claimsift_store_result( WP_Post $post, array $result ) {
	$sentences = array();
	foreach ( isset( $result['sentences'] ) ? (array) $result['sentences'] : array() as $sentence ) {
		$sentences[] = array(
			'text'       => (string) $sentence['text'],
			'label'      => (string) $sentence['label'],
			'confidence' => (float) $sentence['confidence'],
			'uncertain'  => (bool) $sentence['uncertain'],
		);
	}
	$counts = array_map( 'intval', isset( $result['counts'] ) ? (array) $result['counts'] : array() );
	$stored = array(
		'counts'       => $counts,
		'model'        => array(
			'name'    => isset( $result['model']['name'] ) ? (string) $result['model']['name'] : '',
			'version' => isset( $result['model']['version'] ) ? (string) $result['model']['version'] : '',
		),
		'checked_at'   => gmdate( 'Y-m-d\TH:i:s\Z' ),
		'content_hash' => claimsift_content_hash( $post ),
		'sentences'    => $sentences,
	);
	// Meta functions unslash what they store: slash first, or a backslash in a sentence is lost.
	update_post_meta( $post->ID, CLAIMSIFT_META_RESULT, wp_slash( $stored ) );
	update_post_meta( $post->ID, CLAIMSIFT_META_SHARE, sprintf( '%.4f', claimsift_opinion_share( $counts ) ) );
	delete_post_meta( $post->ID, CLAIMSIFT_META_ERROR );
}

/**
 * Assessment + prescription sentences over all sentences; 0 for a post without sentences.
 *
 * @param array $counts Label => count.
 * @return float
 */
function claimsift_opinion_share( array $counts ) {
	$total = array_sum( $counts );
	if ( 0 === $total ) {
		return 0.0;
	}
	$opinion = ( isset( $counts['assessment'] ) ? $counts['assessment'] : 0 ) + ( isset( $counts['prescription'] ) ? $counts['prescription'] : 0 );
	return $opinion / $total;
}

/**
 * What a stored check remembers of the content, to tell when the post changed after it.
 *
 * @param WP_Post $post The post.
 * @return string
 */
function claimsift_content_hash( WP_Post $post ) {
	return md5( $post->post_content );
}

/**
 * The stored check of a post, or null.
 *
 * @param int $post_id Post ID.
 * @return array|null
 */
function claimsift_stored_result( $post_id ) {
	$stored = get_post_meta( $post_id, CLAIMSIFT_META_RESULT, true );
	return is_array( $stored ) && isset( $stored['counts'] ) ? $stored : null;
}

/**
 * Whether the post was edited after its stored check.
 *
 * @param WP_Post $post   The post.
 * @param array   $stored Its stored check.
 * @return bool
 */
function claimsift_is_stale( WP_Post $post, array $stored ) {
	return ! isset( $stored['content_hash'] ) || claimsift_content_hash( $post ) !== $stored['content_hash'];
}

/**
 * Everything the editor and the posts list show about a post's checks.
 *
 * @param WP_Post $post The post.
 * @return array{post_id: int, queued: bool, error: string|null, stale: bool, result: array|null}
 */
function claimsift_post_state( WP_Post $post ) {
	$stored = claimsift_stored_result( $post->ID );
	$stale  = null !== $stored && claimsift_is_stale( $post, $stored );
	$error  = get_post_meta( $post->ID, CLAIMSIFT_META_ERROR, true );
	if ( null !== $stored ) {
		unset( $stored['content_hash'] ); // internal; the editor needs only "stale"
	}
	return array(
		'post_id' => $post->ID,
		'queued'  => '' !== get_post_meta( $post->ID, CLAIMSIFT_META_QUEUED, true ),
		'error'   => '' !== $error ? (string) $error : null,
		'stale'   => $stale,
		'result'  => $stored,
	);
}

/**
 * Registers GET /claimsift/v1/posts/<id>.
 */
function claimsift_register_result_route() {
	register_rest_route(
		'claimsift/v1',
		'/posts/(?P<id>\d+)',
		array(
			'methods'             => 'GET',
			'callback'            => 'claimsift_get_post_state',
			'permission_callback' => 'claimsift_can_read_post_state',
			'args'                => array(
				'id' => array(
					'type'     => 'integer',
					'required' => true,
				),
			),
		)
	);
}

/**
 * Only a user who may edit this post reads its check.
 *
 * @param WP_REST_Request $request The request.
 * @return true|WP_Error
 */
function claimsift_can_read_post_state( WP_REST_Request $request ) {
	$post = get_post( (int) $request['id'] );
	if ( ! current_user_can( 'edit_posts' ) || ( $post && ! current_user_can( 'edit_post', $post->ID ) ) ) {
		return claimsift_forbidden();
	}
	return true;
}

/**
 * The post's stored check, queue state and staleness.
 *
 * @param WP_REST_Request $request The request.
 * @return array|WP_Error
 */
function claimsift_get_post_state( WP_REST_Request $request ) {
	$post = get_post( (int) $request['id'] );
	if ( ! $post ) {
		return new WP_Error( 'claimsift_no_post', __( 'No such post.', 'claimsift' ), array( 'status' => 404 ) );
	}
	return claimsift_post_state( $post );
}
